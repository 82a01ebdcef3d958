/* GNU Unifont's text files, embedded as they are so the binary reads no font
   at run time: unifont.hex (the glyphs, "XXXX:HEX" lines sorted by code
   point) and plane00-combining.txt (the combining marks' offsets,
   "XXXX:-8" lines, sorted too). panel_text.cc searches them in place.
   CMake passes their paths (CONVCORR_UNIFONT_HEX, CONVCORR_UNIFONT_COMBINING,
   string literals) and rebuilds this file when either changes.

   Each file is a byte array without a terminating NUL; its size follows as
   a 32-bit word. The symbols are hidden: they are the library's own. */

/* '@' starts a comment on 32-bit ARM, where section types take '%'. */
#if defined(__arm__)
#define CONVCORR_PROGBITS %progbits
#else
#define CONVCORR_PROGBITS @progbits
#endif

  .section .rodata.convcorr_unifont,"a"

  .globl convcorr_unifont_hex
  .hidden convcorr_unifont_hex
  .type convcorr_unifont_hex, "object"
convcorr_unifont_hex:
  .incbin CONVCORR_UNIFONT_HEX
.Lconvcorr_unifont_hex_end:
  .size convcorr_unifont_hex, .Lconvcorr_unifont_hex_end - convcorr_unifont_hex

  .globl convcorr_unifont_combining
  .hidden convcorr_unifont_combining
  .type convcorr_unifont_combining, "object"
convcorr_unifont_combining:
  .incbin CONVCORR_UNIFONT_COMBINING
.Lconvcorr_unifont_combining_end:
  .size convcorr_unifont_combining, \
        .Lconvcorr_unifont_combining_end - convcorr_unifont_combining

  .balign 4
  .globl convcorr_unifont_hex_size
  .hidden convcorr_unifont_hex_size
  .type convcorr_unifont_hex_size, "object"
convcorr_unifont_hex_size:
  .long .Lconvcorr_unifont_hex_end - convcorr_unifont_hex
  .size convcorr_unifont_hex_size, 4

  .globl convcorr_unifont_combining_size
  .hidden convcorr_unifont_combining_size
  .type convcorr_unifont_combining_size, "object"
convcorr_unifont_combining_size:
  .long .Lconvcorr_unifont_combining_end - convcorr_unifont_combining
  .size convcorr_unifont_combining_size, 4

/* No executable stack: without this note the linker would ask for one. */
  .section .note.GNU-stack,"",CONVCORR_PROGBITS
