package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// maxPages bounds how many pages getAll follows (5000 items a page).
const maxPages = 10000

// getAll reads every page of a list endpoint, following next_cursor, and
// returns the items found under key and the whole list as one JSON
// object {key: [...]}, as a single page would be.
func (c *apiClient) getAll(ctx context.Context, path string, query url.Values, key string) ([]json.RawMessage, []byte, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	var items []json.RawMessage
	for page := 0; ; page++ {
		if page >= maxPages {
			return nil, nil, &exitError{code: exitAPIError, err: fmt.Errorf("%s: more than %d pages", path, maxPages)}
		}
		var body map[string]json.RawMessage
		if _, err := c.get(ctx, path, q, &body); err != nil {
			return nil, nil, err
		}
		var part []json.RawMessage
		if raw, ok := body[key]; ok {
			if err := json.Unmarshal(raw, &part); err != nil {
				return nil, nil, &exitError{code: exitAPIError, err: fmt.Errorf("unreadable answer from %s: %w", c.base, err)}
			}
		}
		items = append(items, part...)
		var next string
		if raw, ok := body["next_cursor"]; ok {
			_ = json.Unmarshal(raw, &next)
		}
		if next == "" {
			break
		}
		q.Set("cursor", next)
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	all, err := json.Marshal(map[string][]json.RawMessage{key: items})
	return items, all, err
}

// decodeAll decodes items read by getAll into a slice of T.
func decodeAll[T any](items []json.RawMessage) ([]T, error) {
	out := make([]T, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it, &out[i]); err != nil {
			return nil, &exitError{code: exitAPIError, err: fmt.Errorf("unreadable item: %w", err)}
		}
	}
	return out, nil
}
