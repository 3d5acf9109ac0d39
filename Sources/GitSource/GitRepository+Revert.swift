import CGit2
import Foundation
import SyncCore

extension GitRepository {
    /// Creates a commit on `branch` that undoes the commit `revision` names, as `git revert` does, without a
    /// work tree, and points the local branch `refs/heads/<branch>` at it (``push(branch:)`` publishes it).
    ///
    /// The new commit's parent is the branch's head as last fetched (`refs/remotes/origin/<branch>`), or the local
    /// branch in a repository that has no remote-tracking ref for it. A merge commit is reverted relative to its
    /// first parent (the branch it was merged into).
    ///
    /// - Parameters:
    ///   - signature: author and committer of the new commit (its time is written as UTC).
    ///   - message: the commit message; by default `Revert "<summary>"` and `This reverts commit <sha>.`.
    /// - Throws: ``GitSourceError/revertConflict(commit:branch:paths:)`` when later commits changed the same lines
    ///   (nothing is written); ``GitSourceError/invalidArgument(_:)`` when the commit is not on the branch or the
    ///   revert would change nothing.
    /// - Returns: the new commit.
    @discardableResult
    public func revert(
        _ revision: String, onBranch branch: String, signature: Signature, message: String? = nil
    ) throws(GitSourceError) -> Revision {
        let (name, target, targetRevision, base) = try undoTarget(revision, onBranch: branch)

        let index = try handle.withPointer { repository throws(GitSourceError) in
            try target.withPointer { targetCommit throws(GitSourceError) in
                try base.withPointer { baseCommit throws(GitSourceError) in
                    try gitHandle(
                        IndexKind.self, "git_revert_commit", "\(subject) revert \(targetRevision.shortSHA) onto \(name)"
                    ) {
                        git_revert_commit(
                            &$0, repository, targetCommit, baseCommit, targetRevision.parents.count > 1 ? 1 : 0, nil)
                    }
                }
            }
        }
        let conflicts = try conflictedPaths(index)
        if !conflicts.isEmpty {
            throw GitSourceError.revertConflict(commit: targetRevision.sha, branch: name, paths: conflicts)
        }
        var treeID = git_oid()
        try handle.withPointer { repository throws(GitSourceError) in
            try index.withPointer { index throws(GitSourceError) in
                try git("git_index_write_tree_to", "\(subject) revert \(targetRevision.shortSHA)") {
                    git_index_write_tree_to(&treeID, index, repository)
                }
            }
        }
        let baseTreeID = base.withPointer { ObjectID.hex(git_commit_tree_id($0)) }
        if ObjectID.hex(treeID) == baseTreeID {
            throw GitSourceError.invalidArgument(
                "\(subject): reverting \(targetRevision.shortSHA) on \(name) changes nothing (already reverted?)")
        }
        let text = message ?? "Revert \"\(targetRevision.summary)\"\n\nThis reverts commit \(targetRevision.sha).\n"
        return try commit(
            tree: treeID, onto: base, branch: name, signature: signature, message: text,
            action: "revert \(targetRevision.sha)")
    }

    /// Creates a commit on `branch` whose tree is the tree of the earlier commit `revision` names: every commit
    /// after it is undone at once (`git revert --no-commit REV..HEAD && git commit`, without a work tree). The
    /// parent is the branch's head as last fetched, as for ``revert(_:onBranch:signature:message:)``.
    ///
    /// - Throws: ``GitSourceError/invalidArgument(_:)`` when the commit is not on the branch, or the branch
    ///   already has that tree.
    @discardableResult
    public func restore(
        _ revision: String, onBranch branch: String, signature: Signature, message: String? = nil
    ) throws(GitSourceError) -> Revision {
        let (name, target, targetRevision, base) = try undoTarget(revision, onBranch: branch)
        let treeID = target.withPointer { git_commit_tree_id($0).pointee }
        let baseTreeID = base.withPointer { ObjectID.hex(git_commit_tree_id($0)) }
        if ObjectID.hex(treeID) == baseTreeID {
            throw GitSourceError.invalidArgument(
                "\(subject): branch \(name) already has the tree of \(targetRevision.shortSHA); nothing to roll back")
        }
        let text =
            message
            ?? "Roll back to \"\(targetRevision.summary)\"\n\nThis restores the tree of commit \(targetRevision.sha).\n"
        return try commit(
            tree: treeID, onto: base, branch: name, signature: signature, message: text,
            action: "restore \(targetRevision.sha)")
    }

    /// What an undo works from: the checked branch name, the commit `revision` names and its revision, and the
    /// branch's head as last fetched (the local branch without a remote-tracking ref); throws unless the commit is
    /// on the branch.
    private func undoTarget(_ revision: String, onBranch branch: String) throws(GitSourceError) -> (
        name: String, target: GitHandle<CommitKind>, revision: Revision, base: GitHandle<CommitKind>
    ) {
        let name = try Self.validBranch(branch)
        let target = try lookupCommit(revision)
        let targetRevision = target.withPointer { Self.revision(of: $0) }
        var baseSHA = try referenceTarget(Self.trackingRef(branch: name))
        if baseSHA == nil { baseSHA = try referenceTarget("refs/heads/\(name)") }
        guard let baseSHA else {
            throw GitSourceError.invalidArgument("\(subject): branch '\(name)' not found; fetch it first")
        }
        try requireAncestor(targetRevision.sha, of: baseSHA, branch: name)
        return (name, target, targetRevision, try lookupCommit(baseSHA))
    }

    /// Commits the tree `treeID` with the single parent `base`, points the local branch `refs/heads/<name>` at it
    /// and returns it; `action` ("revert <sha>") names it in errors and the reflog.
    private func commit(
        tree treeID: git_oid, onto base: GitHandle<CommitKind>, branch name: String, signature: Signature,
        message: String, action: String
    ) throws(GitSourceError) -> Revision {
        var treeID = treeID
        let tree = try handle.withPointer { repository throws(GitSourceError) in
            try gitHandle(TreeKind.self, "git_tree_lookup", "\(subject) tree \(ObjectID.hex(treeID))") {
                git_tree_lookup(&$0, repository, &treeID)
            }
        }
        var commitID = git_oid()
        try withSignature(signature) { author throws(GitSourceError) in
            try handle.withPointer { repository throws(GitSourceError) in
                try tree.withPointer { tree throws(GitSourceError) in
                    try base.withPointer { baseCommit throws(GitSourceError) in
                        var parents: [OpaquePointer?] = [baseCommit]
                        try git("git_commit_create", "\(subject) \(action) onto \(name)") {
                            git_commit_create(&commitID, repository, nil, author, author, nil, message, tree, 1, &parents)
                        }
                    }
                }
            }
        }
        let sha = ObjectID.hex(commitID)
        try setReference("refs/heads/\(name)", to: sha, message: "syncagent: \(action)")
        return try self.revision(sha)
    }

    /// Throws unless `commit` is `head` or one of its ancestors.
    private func requireAncestor(_ commit: String, of head: String, branch: String) throws(GitSourceError) {
        if commit == head { return }
        var commitID = try ObjectID.parse(commit)
        var headID = try ObjectID.parse(head)
        let result = handle.withPointer { git_graph_descendant_of($0, &headID, &commitID) }
        if result == 1 { return }
        try git("git_graph_descendant_of", "\(subject) branch \(branch)") { result }
        throw GitSourceError.invalidArgument(
            "\(subject): commit \(commit.prefix(12)) is not on branch '\(branch)'; only its own commits can be reverted"
        )
    }

    /// The paths an in-memory merge result left conflicted.
    private func conflictedPaths(_ index: GitHandle<IndexKind>) throws(GitSourceError) -> [String] {
        guard index.withPointer({ git_index_has_conflicts($0) }) != 0 else { return [] }
        let iterator = try index.withPointer { index throws(GitSourceError) in
            try gitHandle(ConflictIteratorKind.self, "git_index_conflict_iterator_new", subject) {
                git_index_conflict_iterator_new(&$0, index)
            }
        }
        var paths: Set<String> = []
        iterator.withPointer { iterator in
            var ancestor: UnsafePointer<git_index_entry>?
            var ours: UnsafePointer<git_index_entry>?
            var theirs: UnsafePointer<git_index_entry>?
            while git_index_conflict_next(&ancestor, &ours, &theirs, iterator) == 0 {
                for entry in [ancestor, ours, theirs] {
                    if let path = entry?.pointee.path { paths.insert(String(cString: path)) }
                }
            }
            git_error_clear()  // the loop ends on GIT_ITEROVER
        }
        return paths.sorted()
    }

    /// Runs `body` with a libgit2 signature for `signature`, freed afterwards.
    private func withSignature<Result>(
        _ signature: Signature, _ body: (UnsafePointer<git_signature>) throws(GitSourceError) -> Result
    ) throws(GitSourceError) -> Result {
        var out: UnsafeMutablePointer<git_signature>?
        try git("git_signature_new", "signature \(signature.name) <\(signature.email)>") {
            git_signature_new(
                &out, signature.name, signature.email, git_time_t(signature.time.timeIntervalSince1970), 0)
        }
        guard let out else { throw GitSourceError.invalidArgument("libgit2 returned no signature") }
        defer { git_signature_free(out) }
        return try body(out)
    }
}
