package main

import (
	"math/bits"
	"sort"
	"sync/atomic"
	"time"
)

// hist is a lock-free log-linear histogram of durations in nanoseconds:
// 64 sub-buckets per power of two, so values are kept within 1.6%.
type hist struct {
	counts [histBuckets]atomic.Int64
}

const (
	subBits     = 6
	histBuckets = 64 << subBits
)

func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - subBits - 1
	i := (e+1)<<subBits | int((v>>e)&(1<<subBits-1))
	return min(i, histBuckets-1)
}

// bucketValue is the middle of bucket i.
func bucketValue(i int) int64 {
	if i < 1<<subBits {
		return int64(i)
	}
	e := i>>subBits - 1
	lo := (int64(1)<<subBits | int64(i&(1<<subBits-1))) << e
	return lo + (int64(1)<<e)/2
}

func (h *hist) record(d int64) { h.counts[bucketOf(d)].Add(1) }

// snapshot is a histogram in transit: (bucket, count) pairs.
type snapshot [][2]int64

func (h *hist) snapshot() snapshot {
	var s snapshot
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			s = append(s, [2]int64{int64(i), c})
		}
	}
	return s
}

// merged adds snapshots together.
func merged(ss ...snapshot) snapshot {
	m := map[int64]int64{}
	for _, s := range ss {
		for _, p := range s {
			m[p[0]] += p[1]
		}
	}
	out := make(snapshot, 0, len(m))
	for i, c := range m {
		out = append(out, [2]int64{i, c})
	}
	sort.Slice(out, func(a, b int) bool { return out[a][0] < out[b][0] })
	return out
}

func (s snapshot) count() int64 {
	var n int64
	for _, p := range s {
		n += p[1]
	}
	return n
}

// quantile returns the q-quantile (0..1), or -1 when empty.
func (s snapshot) quantile(q float64) time.Duration {
	n := s.count()
	if n == 0 {
		return -1
	}
	rank := int64(q*float64(n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for _, p := range s {
		seen += p[1]
		if seen >= rank {
			return time.Duration(bucketValue(int(p[0])))
		}
	}
	return time.Duration(bucketValue(int(s[len(s)-1][0])))
}
