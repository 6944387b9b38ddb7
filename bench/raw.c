/*
 * raw.c: the limit, libcurl alone. The same requests as the other
 * contenders, through one reused handle (limit.c), no decoding.
 *
 *   raw small BASE REQUEST_ID N WARM   N timed GETs of one session,
 *                                      after WARM untimed ones
 *   raw pages BASE PAGES SIZE          pages 1..PAGES of SIZE sessions
 *   raw export BASE SIZE PATH          the bulk ZIP of SIZE bytes into PATH
 *
 * (the arguments every contender takes, see benchlib.lua).
 * The key comes from BENCH_KEY, the User-Agent from BENCH_UA. Prints one
 * line "bench n= items= bytes= wall= cpu= rss_kb=" (see driver.lua);
 * exits 1 on any failure or non-2xx answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "limit.h"

typedef struct mark {
  double wall, cpu;
} mark;

static mark now(void) {
  struct timespec ts;
  struct rusage ru;
  mark m = {0, 0};
  if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
    m.wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    m.cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  return m;
}

static long peak_rss_kb(void) {
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static int get(limit *l, const char *url) {
  char err[CURL_ERROR_SIZE];
  long status = limit_get(l, url, err, sizeof(err));
  if (status < 200 || status > 299) {
    fprintf(stderr, "raw: %s: %s\n", url,
            status < 0 ? err : "HTTP status not 2xx");
    return -1;
  }
  return 0;
}

static int run_small(limit *l, const char *url, long n, long long *bytes) {
  long i;
  for (i = 0; i < n; i++) {
    if (get(l, url) != 0)
      return -1;
    *bytes += l->received;
  }
  return 0;
}

static int run_pages(limit *l, const char *base, long pages, long size,
                     long long *bytes) {
  char url[2048];
  long p;
  for (p = 1; p <= pages; p++) {
    if (snprintf(url, sizeof(url), "%s/api/v1/call-analytics?page=%ld"
                 "&page_size=%ld", base, p, size) >= (int)sizeof(url)) {
      fprintf(stderr, "raw: URL too long\n");
      return -1;
    }
    if (get(l, url) != 0)
      return -1;
    *bytes += l->received;
  }
  return 0;
}

static int run_export(limit *l, const char *url, const char *path,
                      long long *bytes) {
  int rc;
  l->file = fopen(path, "wb");
  if (l->file == NULL) {
    perror("raw: fopen");
    return -1;
  }
  rc = get(l, url);
  *bytes = l->received;
  if (fclose(l->file) != 0 && rc == 0) {
    perror("raw: fclose");
    rc = -1;
  }
  l->file = NULL;
  return rc;
}

static void usage(void) {
  fprintf(stderr, "usage: raw small BASE REQUEST_ID N WARM | "
                  "raw pages BASE PAGES SIZE | raw export BASE SIZE PATH\n");
}

int main(int argc, char **argv) {
  limit l;
  mark t0 = {0, 0}, t1;
  char url[2048];
  long n = 1;
  long long bytes = 0;
  int rc = -1;
  if (argc < 5) {
    usage();
    return 2;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "raw: curl_global_init failed\n");
    return 1;
  }
  if (limit_open(&l, getenv("BENCH_KEY"), getenv("BENCH_UA")) != 0) {
    fprintf(stderr, "raw: could not set up libcurl\n");
    limit_close(&l);
    curl_global_cleanup();
    return 1;
  }
  if (strcmp(argv[1], "small") == 0 && argc == 6 &&
      snprintf(url, sizeof(url), "%s/api/v1/call-analytics?request_id=%s",
               argv[2], argv[3]) < (int)sizeof(url)) {
    n = atol(argv[4]);
    rc = run_small(&l, url, atol(argv[5]), &bytes); /* warm-up, untimed */
    bytes = 0;
    t0 = now();
    if (rc == 0)
      rc = run_small(&l, url, n, &bytes);
  } else if (strcmp(argv[1], "pages") == 0 && argc == 5) {
    n = atol(argv[3]);
    t0 = now();
    rc = run_pages(&l, argv[2], n, atol(argv[4]), &bytes);
  } else if (strcmp(argv[1], "export") == 0 && argc == 5 &&
             snprintf(url, sizeof(url), "%s/api/v1/call-analytics/export"
                      "?request_id=bulk&size=%s", argv[2], argv[3]) <
                 (int)sizeof(url)) {
    t0 = now();
    rc = run_export(&l, url, argv[4], &bytes);
  } else {
    usage();
    limit_close(&l);
    curl_global_cleanup();
    return 2;
  }
  t1 = now();
  limit_close(&l);
  curl_global_cleanup();
  if (rc != 0)
    return 1;
  printf("bench n=%ld items=0 bytes=%lld wall=%.6f cpu=%.6f rss_kb=%ld\n", n,
         bytes, t1.wall - t0.wall, t1.cpu - t0.cpu, peak_rss_kb());
  return 0;
}
