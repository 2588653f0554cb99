package main

import (
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	var s series
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := s.quantile(c.q); got != c.want {
			t.Errorf("q%.2f = %v, want %v", c.q, got, c.want)
		}
	}
	if s[0] != 100*time.Millisecond {
		t.Error("quantile sorted the caller's slice")
	}
	if (series{}).quantile(0.5) != 0 {
		t.Error("empty series")
	}
}
