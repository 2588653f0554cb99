package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/buildinfo"
)

// maxPages bounds how many pages GetAll follows.
const maxPages = 10000

// ServicePath and ZonePath are the API paths of a service or zone, with or
// without the name's final dot.
func ServicePath(name string) string { return "/v1/services/" + url.PathEscape(TrimName(name)) }

// ZonePath: see ServicePath.
func ZonePath(name string) string { return "/v1/zones/" + url.PathEscape(TrimName(name)) }

// TrimName drops surrounding space and a final dot.
func TrimName(n string) string {
	n = strings.TrimSpace(n)
	if len(n) > 1 {
		n = strings.TrimSuffix(n, ".")
	}
	return n
}

// Get sends a GET and decodes a 2xx answer into v (when not nil); it
// returns the answer's JSON as it came.
func (c *Client) Get(ctx context.Context, path string, query url.Values, v any) (json.RawMessage, error) {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path, Query: query})
	if err != nil {
		return nil, err
	}
	if v != nil {
		if err := json.Unmarshal(resp.Body, v); err != nil {
			return nil, fmt.Errorf("unreadable answer from %s: %w", resp.Server, err)
		}
	}
	return resp.Body, nil
}

// GetAll reads every page of a list endpoint, following next_cursor, and
// returns the items found under key and the whole list as one JSON object
// {key: [...]}, as a single page would be.
func (c *Client) GetAll(ctx context.Context, path string, query url.Values, key string) ([]json.RawMessage, json.RawMessage, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	var items []json.RawMessage
	for page := 0; ; page++ {
		if page >= maxPages {
			return nil, nil, fmt.Errorf("%s: more than %d pages", path, maxPages)
		}
		var body map[string]json.RawMessage
		if _, err := c.Get(ctx, path, q, &body); err != nil {
			return nil, nil, err
		}
		var part []json.RawMessage
		if raw, ok := body[key]; ok {
			if err := json.Unmarshal(raw, &part); err != nil {
				return nil, nil, fmt.Errorf("unreadable answer from %s: %w", c.Server(), err)
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

// DecodeAll decodes items read by GetAll into a slice of T.
func DecodeAll[T any](items []json.RawMessage) ([]T, error) {
	out := make([]T, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it, &out[i]); err != nil {
			return nil, fmt.Errorf("unreadable item: %w", err)
		}
	}
	return out, nil
}

// WriteOptions are the options of a write.
type WriteOptions struct {
	// Wait asks the server to answer only once every member (voters and edges) has applied
	// the change, or WaitTimeout (server default when zero) has passed.
	Wait        bool
	WaitTimeout time.Duration
	// RequestID of the write; generated when empty (the typed methods
	// take the body's request_id when it has one).
	RequestID string
	// ContentType of the body (default application/json).
	ContentType string
}

func (o WriteOptions) query() url.Values {
	if !o.Wait {
		return nil
	}
	q := url.Values{"wait": {"all"}}
	if o.WaitTimeout > 0 {
		q.Set("wait_timeout", o.WaitTimeout.String())
	}
	return q
}

// Mutate sends a write whose answer is a Mutation (services, zones,
// lifecycle steps, freezes). A wait that ran out is returned as the
// Mutation and a *WaitError.
func (c *Client) Mutate(ctx context.Context, method, path string, body any, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	resp, err := c.Write(ctx, method, path, body, o)
	if err != nil {
		return nil, nil, err
	}
	var m api.Mutation
	if err := json.Unmarshal(resp.Body, &m); err != nil {
		return nil, nil, fmt.Errorf("unreadable answer from %s: %w", resp.Server, err)
	}
	if w := m.Wait; w != nil && !w.Complete {
		return &m, resp.Body, &WaitError{Mutation: &m, RequestID: resp.RequestID}
	}
	return &m, resp.Body, nil
}

// Write sends a write and returns the server's answer.
func (c *Client) Write(ctx context.Context, method, path string, body any, o WriteOptions) (*Response, error) {
	req := Request{Method: method, Path: path, Query: o.query(), Body: body, RequestID: o.RequestID, ContentType: o.ContentType}
	if o.Wait {
		req.Timeout = c.timeout + max(o.WaitTimeout, 0)
	}
	return c.Do(ctx, req)
}

// withID gives meta a request id (the caller's, the options', or a new
// one) and returns the options carrying the same.
func withID(meta *api.RequestMeta, o WriteOptions) WriteOptions {
	switch {
	case meta.RequestID != "":
		o.RequestID = meta.RequestID
	case o.RequestID != "":
		meta.RequestID = o.RequestID
	default:
		o.RequestID = NewRequestID()
		meta.RequestID = o.RequestID
	}
	return o
}

// Services lists every service (of zone, when not empty).
func (c *Client) Services(ctx context.Context, zone string) ([]*api.Service, json.RawMessage, error) {
	var q url.Values
	if zone != "" {
		q = url.Values{"zone": {TrimName(zone)}}
	}
	items, raw, err := c.GetAll(ctx, "/v1/services", q, "services")
	if err != nil {
		return nil, nil, err
	}
	svcs, err := DecodeAll[*api.Service](items)
	return svcs, raw, err
}

// GetService reads one service.
func (c *Client) GetService(ctx context.Context, name string) (*api.Service, json.RawMessage, error) {
	var s api.Service
	raw, err := c.Get(ctx, ServicePath(name), nil, &s)
	if err != nil {
		return nil, nil, err
	}
	return &s, raw, nil
}

// PutService creates or replaces a service.
func (c *Client) PutService(ctx context.Context, name string, in api.ServicePut, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	o = withID(&in.RequestMeta, o)
	return c.Mutate(ctx, http.MethodPut, ServicePath(name), in, o)
}

// PatchService changes only the fields of patch (a JSON merge patch,
// RFC 7396: a null removes a field) of a service.
func (c *Client) PatchService(ctx context.Context, name string, patch map[string]any, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	body := make(map[string]any, len(patch)+1)
	for k, v := range patch {
		body[k] = v
	}
	if id, ok := body["request_id"].(string); ok && id != "" {
		o.RequestID = id
	} else {
		if o.RequestID == "" {
			o.RequestID = NewRequestID()
		}
		body["request_id"] = o.RequestID
	}
	if o.ContentType == "" {
		o.ContentType = "application/merge-patch+json"
	}
	return c.Mutate(ctx, http.MethodPatch, ServicePath(name), body, o)
}

// DeleteService deletes a service (its history is kept).
func (c *Client) DeleteService(ctx context.Context, name string, in api.ActionRequest, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	o = withID(&in.RequestMeta, o)
	return c.Mutate(ctx, http.MethodDelete, ServicePath(name), in, o)
}

// Deploy deploys a version onto the idle colour.
func (c *Client) Deploy(ctx context.Context, name string, in api.DeployRequest, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	o = withID(&in.RequestMeta, o)
	return c.Mutate(ctx, http.MethodPost, ServicePath(name)+"/deploy", in, o)
}

// Switch switches the live name to in.To (default: the idle colour).
func (c *Client) Switch(ctx context.Context, name string, in api.SwitchRequest, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	o = withID(&in.RequestMeta, o)
	return c.Mutate(ctx, http.MethodPost, ServicePath(name)+"/switch", in, o)
}

// Rollback switches back to the previous colour.
func (c *Client) Rollback(ctx context.Context, name string, in api.ActionRequest, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	return c.Action(ctx, ServicePath(name), "rollback", in, o)
}

// Complete finishes the deployment and retires the old colour.
func (c *Client) Complete(ctx context.Context, name string, in api.ActionRequest, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	return c.Action(ctx, ServicePath(name), "complete", in, o)
}

// Action posts a step without fields of its own (rollback, complete,
// freeze, unfreeze) to base (ServicePath or ZonePath) + "/" + action.
func (c *Client) Action(ctx context.Context, base, action string, in api.ActionRequest, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	o = withID(&in.RequestMeta, o)
	return c.Mutate(ctx, http.MethodPost, base+"/"+action, in, o)
}

// History reads a service's audit records, newest first (limit 0: the
// server's default).
func (c *Client) History(ctx context.Context, name string, limit int) (*api.History, json.RawMessage, error) {
	var q url.Values
	if limit > 0 {
		q = url.Values{"limit": {strconv.Itoa(limit)}}
	}
	var h api.History
	raw, err := c.Get(ctx, ServicePath(name)+"/history", q, &h)
	if err != nil {
		return nil, nil, err
	}
	return &h, raw, nil
}

// Zones lists every zone.
func (c *Client) Zones(ctx context.Context) ([]*api.Zone, json.RawMessage, error) {
	items, raw, err := c.GetAll(ctx, "/v1/zones", nil, "zones")
	if err != nil {
		return nil, nil, err
	}
	zs, err := DecodeAll[*api.Zone](items)
	return zs, raw, err
}

// GetZone reads one zone.
func (c *Client) GetZone(ctx context.Context, name string) (*api.Zone, json.RawMessage, error) {
	var z api.Zone
	raw, err := c.Get(ctx, ZonePath(name), nil, &z)
	if err != nil {
		return nil, nil, err
	}
	return &z, raw, nil
}

// PutZone creates or replaces a zone.
func (c *Client) PutZone(ctx context.Context, name string, in api.ZonePut, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	o = withID(&in.RequestMeta, o)
	return c.Mutate(ctx, http.MethodPut, ZonePath(name), in, o)
}

// DeleteZone deletes a zone that has no services left.
func (c *Client) DeleteZone(ctx context.Context, name string, in api.ActionRequest, o WriteOptions) (*api.Mutation, json.RawMessage, error) {
	o = withID(&in.RequestMeta, o)
	return c.Mutate(ctx, http.MethodDelete, ZonePath(name), in, o)
}

// Cluster reads the members, the leader and each node's applied index.
func (c *Client) Cluster(ctx context.Context) (*api.Cluster, json.RawMessage, error) {
	var cl api.Cluster
	raw, err := c.Get(ctx, "/v1/cluster", nil, &cl)
	if err != nil {
		return nil, nil, err
	}
	return &cl, raw, nil
}

// Ready reads /readyz of the server answering: its 503 (not ready) is an
// answer, not an error.
func (c *Client) Ready(ctx context.Context) (*api.Health, json.RawMessage, error) {
	return c.health(ctx, "/readyz")
}

// Healthz reads /healthz: whether the process is alive.
func (c *Client) Healthz(ctx context.Context) (*api.Health, json.RawMessage, error) {
	return c.health(ctx, "/healthz")
}

func (c *Client) health(ctx context.Context, path string) (*api.Health, json.RawMessage, error) {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path, Accept: []int{http.StatusServiceUnavailable}})
	if err != nil {
		return nil, nil, err
	}
	var h api.Health
	if err := json.Unmarshal(resp.Body, &h); err != nil || h.Status == "" {
		ae := decodeAPIError(resp.Status, resp.Body)
		ae.Server = resp.Server
		return nil, nil, ae
	}
	return &h, json.RawMessage(strings.TrimSpace(string(resp.Body))), nil
}

// Version reads the server's build information (GET /v1/version).
func (c *Client) Version(ctx context.Context) (*buildinfo.Info, json.RawMessage, error) {
	var v buildinfo.Info
	raw, err := c.Get(ctx, "/v1/version", nil, &v)
	if err != nil {
		return nil, nil, err
	}
	return &v, raw, nil
}
