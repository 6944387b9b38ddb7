/*
 * nodlclose.c: a no-op dlclose, preloaded with the ASan runtime by
 * tools/asan. Lua unloads C modules in lua_close, before LeakSanitizer
 * reports at exit; with the module still mapped, leak stacks name the
 * file and line in src/ instead of "<unknown module>".
 */
int dlclose(void *handle);

int dlclose(void *handle) {
  (void)handle;
  return 0;
}
