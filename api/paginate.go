package api

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
)

// List pagination: ?limit= (default DefaultPageLimit, at most MaxPageLimit)
// and ?cursor= (opaque: the next_cursor of the previous page).
const (
	DefaultPageLimit = 500
	MaxPageLimit     = 5000
)

// page is a parsed ?limit= and ?cursor=: the key after which the page
// starts ("" = from the first).
type page struct {
	limit int
	after string
}

func readPage(r *http.Request) (page, error) {
	q := r.URL.Query()
	p := page{limit: DefaultPageLimit}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return p, badRequest("limit %q is not a positive number", s)
		}
		if n > MaxPageLimit {
			return p, badRequest("limit %d is above the maximum of %d", n, MaxPageLimit)
		}
		p.limit = n
	}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) == 0 || len(b) > 512 {
			return p, badRequest("cursor %q is not one this API handed out", c)
		}
		p.after = string(b)
	}
	return p, nil
}

func cursorFor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// window returns the [start, end) of the page over n items sorted by
// ascending key, and the next cursor ("" on the last page).
func (p page) window(n int, key func(int) string) (start, end int, next string) {
	start = 0
	if p.after != "" {
		start = sort.Search(n, func(i int) bool { return key(i) > p.after })
	}
	end = min(start+p.limit, n)
	if end < n && end > start {
		next = cursorFor(key(end - 1))
	}
	return start, end, next
}

// visiblePage keeps the items (sorted by name) that the request's token may
// see (all of them for a token without a scope; zones says whether they
// are zones or services), and returns page p of them, converted by conv,
// with the next cursor.
func visiblePage[T, O any](r *http.Request, p page, items []T, zones bool, name func(T) string, conv func(T) O) ([]O, string) {
	if id := identityOf(r); len(id.scope) > 0 {
		seen := make([]T, 0, len(items))
		for _, it := range items {
			if id.sees(name(it), zones) {
				seen = append(seen, it)
			}
		}
		items = seen
	}
	start, end, next := p.window(len(items), func(i int) string { return name(items[i]) })
	out := make([]O, 0, end-start)
	for _, it := range items[start:end] {
		out = append(out, conv(it))
	}
	return out, next
}
