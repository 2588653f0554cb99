package main

import "context"

// runProber runs the health prober while ctx lives.
func runProber(ctx context.Context, rn *runningNode) {
	<-ctx.Done()
}
