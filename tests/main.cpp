// Catch2 v2 main. Randomised tests print their seed; rerun one with
// DRIFTREC_TEST_SEED=<seed> ./driftrec_tests "<test name>".
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
