"""Contender: Python's requests with a Session (Debian's python3-requests,
run by /usr/bin/python3). Keep-alive, gzip (its default), .json().
Same arguments and result line as the Lua contenders (benchlib.lua)."""
import os
import resource
import sys
import time

import requests


def main(argv):
    mode, base = argv[1], argv[2]
    key = os.environ.get("BENCH_KEY", "emu_test_key")
    s = requests.Session()
    s.headers.update({"x-api-key": key, "Accept": "application/json"})
    items = nbytes = 0
    if mode == "small":
        rid, n, warm = argv[3], int(argv[4]), int(argv[5])
        url = base + "/api/v1/call-analytics?request_id=" + rid
        for _ in range(warm):
            s.get(url).raise_for_status()
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            r = s.get(url)
            r.raise_for_status()
            nbytes += len(r.json()["request_id"])
        items = n
    elif mode == "pages":
        n, size = int(argv[3]), int(argv[4])
        w0, c0 = time.perf_counter(), time.process_time()
        for p in range(1, n + 1):
            r = s.get(base + "/api/v1/call-analytics",
                      params={"page": p, "page_size": size})
            r.raise_for_status()
            items += len(r.json()["items"])
    else:
        size, path, n = int(argv[3]), argv[4], 1
        url = "%s/api/v1/call-analytics/export?request_id=bulk&size=%d" % (base, size)
        w0, c0 = time.perf_counter(), time.process_time()
        with s.get(url, stream=True) as r, open(path, "wb") as f:
            r.raise_for_status()
            for chunk in r.iter_content(chunk_size=128 * 1024):
                f.write(chunk)
                nbytes += len(chunk)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("bench n=%d items=%d bytes=%d wall=%.6f cpu=%.6f rss_kb=%d"
          % (n, items, nbytes, wall, cpu, rss))


if __name__ == "__main__":
    main(sys.argv)
