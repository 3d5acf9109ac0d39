#ifndef SYNCAGENT_CGIT2_SHIM_H
#define SYNCAGENT_CGIT2_SHIM_H
#include <git2.h>
#endif
