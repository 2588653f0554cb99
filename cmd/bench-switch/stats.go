package main

import (
	"fmt"
	"sort"
	"time"
)

// series is a set of measured durations.
type series []time.Duration

// quantile returns the q-quantile (nearest rank) of s.
func (s series) quantile(q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := append(series(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	r := int(q*float64(len(c))+0.999999) - 1
	r = max(0, min(r, len(c)-1))
	return c[r]
}

func (s series) max() time.Duration { return s.quantile(1) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func (s series) row(name string) string {
	return fmt.Sprintf("%-38s %6d %12s %12s %12s", name, len(s), ms(s.quantile(0.5)), ms(s.quantile(0.99)), ms(s.max()))
}
