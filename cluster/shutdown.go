package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bgdns/bgdns/shutdown"
	"github.com/hashicorp/raft"
)

// The budgets of the stages of Node.Shutdown. Each stage gets its own; one
// that overruns is logged by name and the stop goes on without it. With
// the API and DNS stages of `bgdns serve` (cmd/bgdns) they add up to less
// than StopBudget.
const (
	BudgetStepDown = 1 * time.Second        // leadership transfer
	BudgetLoops    = 250 * time.Millisecond // the node's own goroutines
	// BudgetSnapshot is how long the stop waits, after the stages before
	// it, for the snapshot it started right after the leadership
	// transfer (so the snapshot runs while the API drains).
	BudgetSnapshot  = 1250 * time.Millisecond
	BudgetRaft      = 750 * time.Millisecond // raft.Shutdown: its goroutines, then the transport
	BudgetStores    = 250 * time.Millisecond // watermark, bolt store close
	StopBudget      = 5 * time.Second        // what a clean stop may take in all
	shutdownMinimum = 10 * time.Millisecond
)

// beginSnapshot starts, once, the snapshot a stop takes (or nothing with
// NoSnapshotOnShutdown); snapshotDone reports its end.
func (n *Node) beginSnapshot() <-chan error {
	n.snapOnce.Do(func() {
		ch := make(chan error, 1)
		n.snapDone = ch
		if n.cfg.NoSnapshotOnShutdown {
			ch <- raft.ErrNothingNewToSnapshot // leave the log tail as a crash would
			return
		}
		go func() { ch <- n.raft.Snapshot().Error() }()
	})
	return n.snapDone
}

// Shutdown leaves readiness, transfers leadership if this node leads,
// stops Raft and closes the transport and the bolt store, each stage
// within its budget (and within ctx).
//
// When raft does not stop within its budget, its goroutines may still
// write to the bolt store, so the store is left open: the caller exits the
// process, which is safe for bolt since every transaction it committed was
// fsynced (the state on disk is the one a kill -9 at that instant leaves,
// which a restart recovers from). Shutdown then returns an error wrapping
// shutdown.ErrOverran.
func (n *Node) Shutdown(ctx context.Context) error {
	n.shutOnce.Do(func() { n.shutErr = n.shutdown(ctx) })
	return n.shutErr
}

func (n *Node) shutdown(ctx context.Context) error {
	var errs []error
	stage := func(name string, budget time.Duration, f func(context.Context) error) error {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < budget {
			budget = max(time.Until(dl), shutdownMinimum)
		}
		err := shutdown.Stage(context.WithoutCancel(ctx), n.log, name, budget, f)
		if err != nil {
			errs = append(errs, err)
		}
		return err
	}
	if !n.steppedDown.Load() {
		if err := stage("leadership transfer", BudgetStepDown, n.StepDown); err != nil {
			n.log.Warn("shutdown without leadership transfer", "err", err)
			errs = errs[:len(errs)-1] // not a failure of the stop
		}
	}
	// A snapshot now lets the next start restore the state in one step
	// instead of replaying every entry since the last one. One cut short
	// leaves only a temporary directory, which the snapshot store ignores.
	snap := n.beginSnapshot()
	close(n.stop)
	_ = stage("node loops", BudgetLoops, func(context.Context) error { n.wg.Wait(); return nil })
	snapshotLate := false
	if err := stage("snapshot", BudgetSnapshot, func(context.Context) error {
		return <-snap // the channel is buffered: a late result does not block
	}); err != nil {
		errs = errs[:len(errs)-1]
		snapshotLate = errors.Is(err, shutdown.ErrOverran)
		if !errors.Is(err, raft.ErrNothingNewToSnapshot) {
			n.log.Warn("no snapshot at shutdown", "err", err)
		}
	}
	if err := stage("raft", BudgetRaft, func(context.Context) error { return n.raft.Shutdown().Error() }); err != nil {
		if errors.Is(err, shutdown.ErrOverran) {
			if snapshotLate {
				// raft's Shutdown waits for the snapshot still being
				// written: nothing is stuck, and the snapshot, written
				// to a temporary directory, is simply not kept.
				n.log.Warn("raft still writing its snapshot: exiting without it; the bolt store is left open "+
					"for the process exit (every committed transaction is on disk)", "budget", BudgetRaft)
				return errors.Join(errs[:len(errs)-1]...)
			}
			n.log.Error("raft did not stop in time: leaving the bolt store open for the process exit "+
				"(every committed transaction is on disk)", "budget", BudgetRaft)
			return errors.Join(errs...)
		}
		errs[len(errs)-1] = fmt.Errorf("cluster: raft shutdown: %w", err)
	}
	_ = stage("stores", BudgetStores, func(context.Context) error {
		if n.caughtUp.Load() {
			if err := n.watermark.record(n.Applied(), time.Now(), true); err != nil {
				n.log.Warn("could not record the served index", "err", err)
			}
		}
		if err := n.stores.close(); err != nil {
			return fmt.Errorf("cluster: close stores: %w", err)
		}
		return nil
	})
	n.log.Info("raft stopped")
	return errors.Join(errs...)
}
