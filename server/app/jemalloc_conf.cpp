// jemalloc's settings for enrolld, read by jemalloc before main() (linked only with jemalloc;
// the MALLOC_CONF environment variable still overrides them).
//
// One arena instead of jemalloc's four per core, and freed pages handed back within half a
// second: under a 64-client EST load this keeps enrolld's resident memory at about 47 MB instead
// of 61-67 MB, at the same enrollments per second (docs/benchmarks.md). The per-thread caches,
// which is where the speed comes from, stay.
// NOLINTNEXTLINE(readability-identifier-naming): the name jemalloc looks for.
extern "C" const char* malloc_conf;
const char* malloc_conf = "narenas:1,dirty_decay_ms:500,muzzy_decay_ms:0,tcache_max:4096";
