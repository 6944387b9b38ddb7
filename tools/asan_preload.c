/*
 * asan_preload.c: preloaded after the ASan runtime by tools/asan, into the
 * Lua interpreter that runs the specs.
 *
 * - A no-op dlclose: Lua unloads C modules in lua_close, before
 *   LeakSanitizer reports at exit; with the module still mapped, leak
 *   stacks name the file and line in src/ instead of "<unknown module>".
 * - The preload is kept to this process: LD_PRELOAD moves to
 *   KUPE_ASAN_PRELOAD before main, so the programs the specs start (sh,
 *   pgrep, nginx, compilers) run without the ASan runtime, which some of
 *   them cannot run under (pgrep deadlocks). A spec that starts a Lua
 *   child meant to load the sanitized module passes it on explicitly.
 */
#include <stdlib.h>

int dlclose(void *handle);

int dlclose(void *handle) {
  (void)handle;
  return 0;
}

__attribute__((constructor)) static void keep_preload_here(void) {
  const char *p = getenv("LD_PRELOAD");
  if (p != NULL && setenv("KUPE_ASAN_PRELOAD", p, 1) == 0)
    unsetenv("LD_PRELOAD");
}
