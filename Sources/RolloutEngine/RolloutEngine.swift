// RolloutEngine: one revision across the regions, in order, behind gates. The executable (SyncAgent) reads the
// configuration and Git and hands this module a `RolloutConfig` and a `Snapshot`; everything that decides what
// happens to a cluster is here, and is tested in process (Tests/RolloutEngineTests) as well as through the binary.
//
// The rules, in the order a pass applies them (`Rollout.sync`):
//
// 1. Render every region (base + its folder), check the sync policy (allowed kinds and namespaces, the reserved
//    `syncagent-system`, cluster-scoped kinds only when listed) and custom resources against CRDs in the same
//    revision, and plan. A problem anywhere: nothing is written anywhere (exit 2).
// 2. Preflight, before the first write to any region, in every region it can reach: the inventory is read; a
//    revision that empties a region (unless `sync.allowEmpty`) or prunes more than `sync.maxPrune` is refused;
//    every kind must be served or defined by a CRD in the revision; an object that exists but is in no inventory
//    is refused unless adopted (`syncagent.io/adopt`, `sync.adopt`); every object is dry-run server-side (that dry
//    run later decides the apply); an immutable change is refused unless `syncagent.io/recreate`. One refusal:
//    nothing is written anywhere, every refusal listed (exit 2).
// 3. Region by region. The region's status record is a state machine written before each phase: `applying R`,
//    `gating R`, then `synced R` (or `failed`, `rolled-back`, `abandoned`). Only a completed gate makes R good;
//    a pass that finds `applying`/`gating` judges R again. The record keeps the last 10 good revisions.
// 4. A failed gate (readiness, metrics) or a refused apply rolls every touched region back to its newest good
//    revision, newest region first; later regions are never touched. An unreachable region stops the rollout
//    without a rollback.
// 5. syncagent's own records (inventory, status) are written with the resourceVersion the pass read or last wrote
//    as a precondition. The status record is the claim: a pass that finds another writer stops (`conflict`) unless
//    it holds the claim, in which case it takes the inventory over keeping the other writer's objects.
// 6. Prune deletes only inventory objects the revision no longer has, never one the policy would not let Git
//    write, never one annotated `syncagent.io/prune: disabled`.
