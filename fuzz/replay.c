/*
 * replay.c: runs a harness's LLVMFuzzerTestOneInput once on each file
 * named on the command line, without libFuzzer, so the seed corpus can be
 * replayed with gcc and the sanitizers where clang is not installed
 * (tools/fuzz replay; the test command does this).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL, *p;
  size_t len = 0, cap = 0, got;
  if (f == NULL) {
    perror(path);
    return -1;
  }
  for (;;) {
    if (cap - len < 4096) {
      cap = cap ? cap * 2 : 8192;
      p = realloc(buf, cap);
      if (p == NULL) {
        free(buf);
        fclose(f);
        fprintf(stderr, "%s: out of memory\n", path);
        return -1;
      }
      buf = p;
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    perror(path);
    free(buf);
    fclose(f);
    return -1;
  }
  fclose(f);
  /* An exact-size copy, so that a read past the end is caught. */
  p = malloc(len ? len : 1);
  if (p == NULL) {
    free(buf);
    return -1;
  }
  for (got = 0; got < len; got++)
    p[got] = buf[got];
  free(buf);
  LLVMFuzzerTestOneInput(p, len);
  free(p);
  return 0;
}

int main(int argc, char **argv) {
  int i, rc = 0;
  for (i = 1; i < argc; i++)
    if (run_file(argv[i]) != 0)
      rc = 1;
  return rc;
}
