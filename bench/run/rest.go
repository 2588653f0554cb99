package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgdns/bgdns/bench/dataset"
)

var httpClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64},
}

// do sends one request and fails on anything but 2xx.
func do(ctx context.Context, method, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

func ready(base string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return do(ctx, http.MethodGet, base+"/readyz", nil) == nil
}

func trimDot(n string) string { return strings.TrimSuffix(n, ".") }

// loadSet puts the zone and every service through the REST API with
// workers requests in flight.
func loadSet(ctx context.Context, base string, set *dataset.Set, workers int) error {
	if err := do(ctx, http.MethodPut, base+"/v1/zones/"+trimDot(set.Zone), set.ZoneJSON()); err != nil {
		return fmt.Errorf("zone: %w", err)
	}
	jobs := make(chan dataset.Service)
	var (
		wg       sync.WaitGroup
		firstErr atomic.Value
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for svc := range jobs {
				if firstErr.Load() != nil {
					continue
				}
				if err := do(ctx, http.MethodPut, base+"/v1/services/"+trimDot(svc.Name), dataset.ServiceJSON(svc)); err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
loop:
	for _, svc := range set.Services {
		select {
		case jobs <- svc:
		case <-ctx.Done():
			break loop
		}
	}
	close(jobs)
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return e.(error)
	}
	return ctx.Err()
}

// stormResult is what the switch driver did.
type stormResult struct {
	Rate       int     `json:"rate_per_s"`
	OK         int64   `json:"ok"`
	Failed     int64   `json:"failed"`
	FirstError string  `json:"first_error,omitempty"`
	P50MS      float64 `json:"switch_call_p50_ms"`
	P99MS      float64 `json:"switch_call_p99_ms"`
}

// switchStorm posts flips at rate per second, round robin over the
// services, until ctx ends: a switch to the idle colour on a service's
// first visit, a rollback on its second (a service validating a switch
// takes no second switch), and so on. *next is where the round robin
// goes on from, across calls. Both are one Raft entry that flips the
// service's answers.
func switchStorm(ctx context.Context, base string, set *dataset.Set, rate int, next *int) stormResult {
	res := stormResult{Rate: rate}
	var (
		mu   sync.Mutex
		lat  []float64
		wg   sync.WaitGroup
		okN  atomic.Int64
		bad  atomic.Int64
		errs atomic.Value
	)
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	for ; ; *next++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			sort.Float64s(lat)
			res.OK, res.Failed = okN.Load(), bad.Load()
			if e := errs.Load(); e != nil {
				res.FirstError = e.(string)
			}
			res.P50MS, res.P99MS = pct(lat, 50), pct(lat, 99)
			return res
		case <-t.C:
		}
		i := *next
		svc := set.Services[i%len(set.Services)]
		action := "/switch"
		if (i/len(set.Services))%2 == 1 {
			action = "/rollback"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			err := do(cctx, http.MethodPost, base+"/v1/services/"+trimDot(svc.Name)+action, []byte("{}"))
			d := time.Since(start)
			if err != nil {
				bad.Add(1)
				errs.CompareAndSwap(nil, err.Error())
				return
			}
			okN.Add(1)
			mu.Lock()
			lat = append(lat, float64(d.Microseconds())/1000)
			mu.Unlock()
		}()
	}
}
