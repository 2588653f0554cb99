package shutdown

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestStageReturnsWhatTheStageReturns(t *testing.T) {
	want := errors.New("boom")
	if err := Stage(context.Background(), nil, "x", time.Second, func(context.Context) error { return want }); !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if err := Stage(context.Background(), nil, "x", time.Second, func(context.Context) error { return nil }); err != nil {
		t.Fatalf("err = %v", err)
	}
}

func TestStageOverrunIsReportedAndLeftBehind(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	start := time.Now()
	err := Stage(context.Background(), nil, "raft", 50*time.Millisecond, func(context.Context) error {
		<-release // ignores its context, like a stuck library call
		return nil
	})
	if !errors.Is(err, ErrOverran) {
		t.Fatalf("err = %v, want ErrOverran", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("Stage waited %v for a stage with a 50ms budget", waited)
	}
}

func TestStageContextEndsAtBudget(t *testing.T) {
	err := Stage(context.Background(), nil, "drain", 20*time.Millisecond, func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if err == nil {
		t.Fatal("a stage that waits for its context returned nil")
	}
}
