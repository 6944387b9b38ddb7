/*
 * lua_harness.h: what the harnesses that check kupe.core functions from
 * Lua share (fuzz_jsondec.c, fuzz_query.c). A harness is a Lua chunk that
 * receives the C functions under test as its arguments and returns the
 * check to run on each input; the check raises to report a difference.
 */
#ifndef KUPE_FUZZ_LUA_HARNESS_H
#define KUPE_FUZZ_LUA_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* Runs the check that chunk (len bytes, named name in messages) returns
 * when called with fns[0..n-1], on data; the Lua state and the check are
 * made on the first call and kept for the whole run. Aborts with the
 * message on stderr when the chunk fails to load or the check raises. */
void fuzz_lua_check(const char *name, const char *chunk, size_t len,
                    const lua_CFunction *fns, int n, const uint8_t *data,
                    size_t size);

#endif
