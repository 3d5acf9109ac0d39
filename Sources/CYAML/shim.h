#ifndef SYNCAGENT_CYAML_SHIM_H
#define SYNCAGENT_CYAML_SHIM_H
#include <yaml.h>
#endif
