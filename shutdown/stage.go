// Package shutdown runs the stages of a process's orderly stop, each with
// its own time budget: a stage that overruns is logged by name and left
// behind, and the stop goes on with the next one.
package shutdown

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrOverran marks a stage that did not finish within its budget.
var ErrOverran = errors.New("overran its budget")

// Stage runs f with a context that ends after budget (or when parent ends,
// if sooner) and waits for f at most that long. A stage that overruns keeps
// running in the background; Stage returns an error wrapping ErrOverran
// and logs which stage it was. Errors of f are returned as they are.
func Stage(parent context.Context, log *slog.Logger, name string, budget time.Duration, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(parent, budget)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		if log != nil {
			log.Debug("shutdown stage done", "stage", name, "took", time.Since(start).Round(time.Millisecond))
		}
		return err
	case <-ctx.Done():
		// f may have returned at the same instant.
		select {
		case err := <-done:
			return err
		default:
		}
		err := fmt.Errorf("shutdown stage %q %w (%v); going on without it", name, ErrOverran, budget)
		if log != nil {
			log.Warn("shutdown stage overran its budget", "stage", name, "budget", budget)
		}
		return err
	}
}
