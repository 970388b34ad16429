/*
 * Errors: every misuse gets a message that names what was wrong.
 */
#include "harness.h"

TEST_FATAL(decref_below_zero_names_type_and_address, "decref below zero: list object at 0x")
{
    grt_object *l = grt_list_new(0);
    _grt_rc_set(l, 0);                  /* as if one decref too many already ran */
    grt_decref(l);
}

TEST(wrong_type_names_function_and_types)
{
    grt_object *d = grt_dict_new();
    T_EQ(grt_list_append(d, grt_None), -1);
    T_ERR(GRT_ERR_TYPE, "expected list, got dict");
    grt_decref(d);
}

TEST(index_out_of_range)
{
    grt_object *l = grt_list_new(3);
    grt_object *v = grt_list_get(l, 3);
    T_EQ_PTR(v, NULL);
    T_ERR(GRT_ERR_INDEX, "out of range");
    v = grt_list_get(l, -4);
    T_EQ_PTR(v, NULL);
    T_ERR(GRT_ERR_INDEX, "out of range");
    grt_decref(l);
}

TEST(unhashable_key)
{
    grt_object *d = grt_dict_new(), *k = grt_list_new(0);
    T_EQ(grt_dict_set(d, k, grt_None), -1);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'list'");
    T_EQ(grt_hash(k), -1);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'list'");
    grt_decref(d);
    grt_decref(k);
}

TEST(null_argument_is_named)
{
    T_EQ(grt_hash(NULL), -1);
    T_ERR(GRT_ERR_TYPE, "'o' is NULL");
}

TEST(error_state_is_per_thread_and_clearable)
{
    grt_err_set(GRT_ERR_VALUE, "bad %d", 42);
    T_EQ(grt_err_occurred(), GRT_ERR_VALUE);
    T_EQ_STR(grt_err_message(), "bad 42");
    T_EQ_STR(grt_err_kind_name(GRT_ERR_KEY), "KeyError");
    grt_err_clear();
    T_EQ(grt_err_occurred(), GRT_ERR_NONE);
    T_EQ_STR(grt_err_message(), "");
}

TEST_NOINIT(unknown_gil_policy_lists_the_valid_ones)
{
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    cfg.gil = "turbo";
    T_EQ(grt_init(&cfg), -1);
    T_TRUE(strstr(grt_err_message(), "turbo") != NULL);
    T_ERR(GRT_ERR_VALUE, "classic");
    T_FALSE(grt_is_initialized());
}

TEST_NOINIT(unknown_allocator_lists_the_valid_ones)
{
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    cfg.allocator = "jemalloc";
    T_EQ(grt_init(&cfg), -1);
    T_TRUE(strstr(grt_err_message(), "jemalloc") != NULL);
    T_ERR(GRT_ERR_VALUE, "malloc");
    T_FALSE(grt_is_initialized());
}

TEST_NOINIT(gil_off_refused_only_in_the_gil_build)
{
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    cfg.gil = "off";
#ifdef GRT_VARIANT_GIL
    T_EQ(grt_init(&cfg), -1);
    T_ERR(GRT_ERR_VALUE, "off");
#else
    T_EQ(grt_init(&cfg), 0);
    T_EQ(grt_fini(), 0);
#endif
}

TEST_NOINIT(malformed_environment_values)
{
    grt_config cfg;
    setenv("GRT_SWITCH_INTERVAL", "soon", 1);
    T_EQ(grt_config_init(&cfg), -1);
    T_ERR(GRT_ERR_VALUE, "GRT_SWITCH_INTERVAL='soon'");
    unsetenv("GRT_SWITCH_INTERVAL");
    static const char *const bad_thresholds[] = {
        "700,-1", "700abc", "1,x", "100;5", "5000000000", "1,2,3,4", "1,,2", "1,", " 7", "+7",
    };
    for (size_t i = 0; i < sizeof bad_thresholds / sizeof *bad_thresholds; i++) {
        setenv("GRT_GC_THRESHOLD", bad_thresholds[i], 1);
        T_EQ(grt_config_init(&cfg), -1);
        char want[64];
        snprintf(want, sizeof want, "GRT_GC_THRESHOLD='%s'", bad_thresholds[i]);
        T_ERR(GRT_ERR_VALUE, want);
    }
    setenv("GRT_GC_THRESHOLD", "2147483647,0", 1);       /* the edges; the third stays */
    T_EQ(grt_config_init(&cfg), 0);
    T_EQ(cfg.gc_threshold[0], INT32_MAX);
    T_EQ(cfg.gc_threshold[1], 0);
    T_EQ(cfg.gc_threshold[2], 10);
    unsetenv("GRT_GC_THRESHOLD");
    setenv("GRT_SWITCH_INTERVAL", "1000000", 1);          /* 1e6 s, as the setter allows */
    T_EQ(grt_config_init(&cfg), 0);
    T_EQ(cfg.switch_interval_us, INT64_C(1000000000000));
    setenv("GRT_SWITCH_INTERVAL", "1000001", 1);
    T_EQ(grt_config_init(&cfg), -1);
    T_ERR(GRT_ERR_VALUE, "at most 1e6");
    unsetenv("GRT_SWITCH_INTERVAL");
    setenv("GRT_CHECK_INTERVAL", "0", 1);
    T_EQ(grt_config_init(&cfg), -1);
    T_ERR(GRT_ERR_VALUE, "GRT_CHECK_INTERVAL");
    unsetenv("GRT_CHECK_INTERVAL");
    T_EQ(grt_config_init(&cfg), 0);
}

TEST_NOINIT(negative_threshold_in_config)
{
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    cfg.gc_threshold[1] = -3;
    T_EQ(grt_init(&cfg), -1);
    T_ERR(GRT_ERR_VALUE, "gc_threshold[1]");
}
