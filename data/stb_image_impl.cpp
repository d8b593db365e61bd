// Our own stb_image implementation unit, built from Debian's /usr/include/stb/stb_image.h (v2.27)
// as patched by data/patch_stb_image.cmake (fixes for what fuzzing found; see data/README.md), with
// only the decoders we need (ecosystem.md section 5.3): PNG, JPEG and BMP. GIF/TGA/PIC/PSD/HDR,
// where the open 2023 GHSL reports are, are compiled out; images larger than 8192 in either
// dimension are rejected before decoding. Never link Debian's libstb.so, which enables everything.
// NOTE: stbi_set_flip_vertically_on_load is never called (CVE-2023-45662/45667 trigger).
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 8192
#define STBI_FAILURE_USERMSG
// stb's internal assert()s can fire on corrupt input (fuzzing hit one in stbi__jpeg_huff_decode);
// library code must never abort, so they are compiled out in every build type, as NDEBUG already
// does in release builds. The fuzz build (ASan + UBSan) checks the behaviour without them.
#define STBI_ASSERT(x) ((void)sizeof(x))
// Zero-filled allocations: a corrupt JPEG can make stb read tables it never wrote (e.g. a scan
// using an undefined Huffman table); with calloc those reads see zeros, never stale heap data.
#include <cstdlib>
#define STBI_MALLOC(size) std::calloc(1, size)
#define STBI_REALLOC(p, size) std::realloc(p, size)
#define STBI_FREE(p) std::free(p)
#define STB_IMAGE_IMPLEMENTATION
#include "stb_image_patched.h"  // generated in the build tree
