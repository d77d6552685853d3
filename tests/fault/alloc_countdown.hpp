// A countdown on C++ allocations for the allocation-failure tests (brutal_alloc.cpp): the
// executable that links alloc_countdown.cpp has every global operator new / new[] (plain,
// nothrow, aligned, aligned nothrow) replaced by one that counts calls and, once armed
// with k, fails the k-th call and every later one (as LAGraph's brutal malloc does: a
// process out of memory stays out of memory), by throwing std::bad_alloc or, for the
// nothrow forms, returning nullptr. Only C++ allocations are counted: HDF5's and other C
// libraries' malloc calls are not.
#pragma once
#include <cstdint>

namespace driftrec::test::alloc {

void start_counting();       // counts from 0, fails nothing
void arm(std::int64_t k);    // counts from 0 and fails call k (1-based) and all later ones
void disarm();               // stops failing; the count stays readable
std::int64_t count();        // calls since start_counting / arm
bool triggered();            // whether a call was failed since arm

}  // namespace driftrec::test::alloc
