package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/client"
)

// watchWait is how long one blocking query of `bgdns watch` waits.
const watchWait = 60 * time.Second

// newWatchCmd is `bgdns watch [NAME]`: the events feed as it comes, from
// blocking queries of /v1/events, reconnecting after errors.
func newWatchCmd(cf *clientFlags) *cobra.Command {
	var last, count int
	cmd := &cobra.Command{
		Use:   "watch [NAME]",
		Short: "Print history and audit records as they are committed (all services, or one)",
		Long: "Print the records of every service, zone, member and token change as they are\n" +
			"committed, newest last: first the last --last ones, then each new one. With NAME,\n" +
			"only that service's. -o json prints one event object a line. Errors are\n" +
			"retried (the feed resumes where it stopped); only a refused request ends it.\n" +
			"Without --retry-for each failed attempt is reported, then retried after a growing delay.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if last < 0 || count < 0 {
				return fmt.Errorf("--last and --count must not be negative")
			}
			if f := cmd.Flag("retry-for"); f == nil || !f.Changed {
				// the watch retries by itself, forever, and says so
				cf.retryFor = 0
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			w := &watcher{c: c, stderr: cmd.ErrOrStderr(), last: last, count: count}
			if len(args) == 1 {
				w.service = trimName(args[0])
			}
			return w.run(cmd.Context())
		},
	}
	cmd.Flags().IntVarP(&last, "last", "n", 10, "print this many past records first")
	cmd.Flags().IntVar(&count, "count", 0, "exit after this many records (0: run until stopped)")
	return cmd
}

type watcher struct {
	c       *cliClient
	stderr  io.Writer
	service string
	last    int
	count   int
	printed int
	header  bool
}

func (w *watcher) run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var index uint64
	first := true
	backoff := 500 * time.Millisecond
	for {
		q := url.Values{}
		if w.service != "" {
			q.Set("service", w.service)
		}
		if first {
			q.Set("limit", strconv.Itoa(max(w.last, 1)))
		} else {
			q.Set("index", strconv.FormatUint(index, 10))
			q.Set("wait", watchWait.String())
		}
		var l api.EventList
		err := w.get(ctx, q, &l)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ae *client.APIError
			if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
				return err // refused: retrying would not help
			}
			fmt.Fprintf(w.stderr, "watch: %v; retrying in %s\n", err, backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 500 * time.Millisecond
		evs := l.Events
		if first && w.last == 0 {
			evs = nil
		}
		first = false
		for _, e := range evs {
			if e.Index <= index && index > 0 {
				continue
			}
			w.print(e)
			w.printed++
			if w.count > 0 && w.printed >= w.count {
				return nil
			}
		}
		index = max(index, l.Index)
	}
}

// get runs one blocking query (its attempt may last the wait).
func (w *watcher) get(ctx context.Context, q url.Values, l *api.EventList) error {
	resp, err := w.c.Do(ctx, client.Request{Method: http.MethodGet, Path: "/v1/events", Query: q, Timeout: watchWait + 30*time.Second})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp.Body, l); err != nil {
		return fmt.Errorf("unreadable answer from %s: %w", resp.Server, err)
	}
	return nil
}

func (w *watcher) print(e api.Event) {
	out := w.c.stdout
	if w.c.json {
		b, _ := json.Marshal(e)
		_, _ = out.Write(append(b, '\n'))
		return
	}
	if !w.header {
		fmt.Fprintf(out, "%-20s  %7s  %-7s  %-16s  %-32s  %s\n", "TIME", "INDEX", "KIND", "ACTION", "NAME", "CHANGE")
		w.header = true
	}
	r := e.Record
	var change []string
	if r.From != "" || r.To != "" {
		change = append(change, orDash(r.From)+" -> "+orDash(r.To))
	}
	if r.Version != "" {
		change = append(change, "version "+r.Version)
	}
	who := r.Actor
	if r.OnBehalfOf != "" {
		who += " (for " + r.OnBehalfOf + ")"
	}
	if who != "" {
		change = append(change, "by "+who)
	}
	if r.Reason != "" {
		change = append(change, strconv.Quote(r.Reason))
	}
	if r.Override {
		change = append(change, "[override: "+strings.Join(r.Overrides, ",")+"]")
	}
	fmt.Fprintf(out, "%-20s  %7d  %-7s  %-16s  %-32s  %s\n", fmtTime(r.Time), e.Index, e.Kind, e.Action, e.Name, strings.Join(change, ", "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
