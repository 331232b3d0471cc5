package main

import (
	"testing"
	"time"
)

func TestHist(t *testing.T) {
	var h hist
	for i := int64(1); i <= 100000; i++ {
		h.record(i * 1000) // 1µs .. 100ms
	}
	s := h.snapshot()
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.001, 100 * time.Microsecond}} {
		got := s.quantile(tc.q)
		if d := float64(got-tc.want) / float64(tc.want); d > 0.02 || d < -0.02 {
			t.Errorf("q%v = %v, want %v", tc.q, got, tc.want)
		}
	}
	if merged(s, s).count() != 200000 {
		t.Error("merge")
	}
	for _, v := range []int64{0, 1, 63, 64, 65, 1000, 1 << 40} {
		b := bucketValue(bucketOf(v))
		if v > 64 && (float64(b-v)/float64(v) > 0.02 || float64(v-b)/float64(v) > 0.02) {
			t.Errorf("value %d -> bucket value %d", v, b)
		}
	}
}
