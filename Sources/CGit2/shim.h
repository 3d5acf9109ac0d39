#ifndef SYNCAGENT_CGIT2_SHIM_H
#define SYNCAGENT_CGIT2_SHIM_H
#include <git2.h>
#include <git2/sys/stream.h>

/// syncagent's socket stream (GitSource/GitSocketStream.swift), registered for GIT_STREAM_STANDARD.
///
/// Its first four members mirror libgit2 1.5's private `git_socket_stream` ({ parent, host, port, s }): the SSH
/// transport takes the socket descriptor from that layout to hand it to libssh2, so the layout must match.
typedef struct {
    git_stream parent;
    char *host;
    char *port;
    int s;
    /// The stream's key in the registry of open sockets (the deadline timer and the abort at shutdown).
    unsigned long long syncagent_id;
} syncagent_git_socket_stream;
#endif
