#ifndef SYNCAGENT_CZLIB_SHIM_H
#define SYNCAGENT_CZLIB_SHIM_H
#include <zlib.h>

/* deflateInit2 and inflateInit2 are macros (they pass zlib's version and the stream's size), which Swift cannot
   call. These wrappers are the only way the Swift side starts a stream: the zlib format (a header naming the preset
   dictionary, an Adler-32 checksum at the end), a window of 2^windowBits bytes. */

static inline int syncagent_deflate_init(z_stream *stream, int level, int windowBits, int memLevel) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
static inline int syncagent_inflate_init(z_stream *stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
#endif
