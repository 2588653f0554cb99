// Package openapi holds the OpenAPI 3.1 description of the bgdns REST API
// and builds the one JSON document that GET /v1/openapi.json serves.
//
// The description is kept in pieces, so that a new route is a local edit:
// openapi.yaml holds the metadata, the security schemes and the shared
// components, and every file in paths/ holds the operations of one area
// under paths: (and, when it needs them, its own components). Pieces may
// add operations to the same path, so a new operation on an existing path
// can be a new file too. Document merges them; an operation or component
// defined twice is an error, and so are path-level fields that two pieces
// give differently and any top-level key of a piece other than paths,
// components or x-* (the anchors a piece shares between its own
// operations).
//
// The api package's tests walk the real router and compare it with the
// merged document, route by route, and validate the document.
package openapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml paths/*.yaml
var files embed.FS

// BaseFile and PathsDir name the pieces inside the embedded files.
const (
	BaseFile = "openapi.yaml"
	PathsDir = "paths"
)

var (
	once    sync.Once
	doc     map[string]any
	asJSON  []byte
	sources map[string]string
	docErr  error
)

// JSON returns the merged document as JSON (built once).
func JSON() ([]byte, error) {
	build()
	return asJSON, docErr
}

// Source names the piece that describes the operation method (GET, ...)
// on path p ("paths/services.yaml"), or "" when no piece does.
func Source(method, p string) string {
	build()
	return sources["paths/"+p+"/"+strings.ToLower(method)]
}

// Operations are the keys of a path item that are operations.
var Operations = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func isOperation(k string) bool { return slices.Contains(Operations, k) }

// Document returns the merged document as decoded YAML: maps with string
// keys, slices and scalars. Callers must not modify it.
func Document() (map[string]any, error) {
	build()
	return doc, docErr
}

func build() {
	once.Do(func() {
		doc, sources, docErr = merge(files)
		if docErr == nil {
			asJSON, docErr = json.Marshal(doc)
		}
	})
}

// Merge builds the document from fsys: BaseFile, then every PathsDir/*.yaml
// in name order.
func Merge(fsys fs.FS) (map[string]any, error) {
	d, _, err := merge(fsys)
	return d, err
}

// merge is Merge that also says where each path and component came from.
func merge(fsys fs.FS) (map[string]any, map[string]string, error) {
	base, err := load(fsys, BaseFile)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := base["paths"]; ok {
		return nil, nil, fmt.Errorf("%s: operations belong in %s/*.yaml, not in the base", BaseFile, PathsDir)
	}
	paths := map[string]any{}
	base["paths"] = paths
	comps, _ := base["components"].(map[string]any)
	if comps == nil {
		comps = map[string]any{}
		base["components"] = comps
	}
	names, err := fs.Glob(fsys, path.Join(PathsDir, "*.yaml"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("no %s/*.yaml", PathsDir)
	}
	// Where each path and component came from, for the duplicate message.
	from := map[string]string{}
	for k := range comps {
		for n := range asMap(comps[k]) {
			from["components/"+k+"/"+n] = BaseFile
		}
	}
	for _, name := range names {
		piece, err := load(fsys, name)
		if err != nil {
			return nil, nil, err
		}
		for k := range piece {
			if k != "paths" && k != "components" && !strings.HasPrefix(k, "x-") {
				return nil, nil, fmt.Errorf("%s: top-level key %q (a piece holds paths, components and x-* anchors only)", name, k)
			}
		}
		ps, ok := piece["paths"].(map[string]any)
		if !ok && piece["paths"] != nil {
			return nil, nil, fmt.Errorf("%s: paths is not a map", name)
		}
		for p, v := range ps {
			item, ok := v.(map[string]any)
			if !ok {
				return nil, nil, fmt.Errorf("%s: path %s is not a map", name, p)
			}
			dst, _ := paths[p].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				paths[p] = dst
			}
			// Pieces may share a path (each adds its own operations to
			// it); the path-level fields they both give must agree.
			for k, e := range item {
				key := "paths/" + p + "/" + k
				if prev, dup := from[key]; dup {
					if !isOperation(k) && reflect.DeepEqual(dst[k], e) {
						continue
					}
					what := k + " of " + p
					if isOperation(k) {
						what = strings.ToUpper(k) + " " + p
					}
					return nil, nil, fmt.Errorf("%s: %s is already described in %s", name, what, prev)
				}
				from[key] = name
				dst[k] = e
			}
		}
		pc, ok := piece["components"].(map[string]any)
		if !ok && piece["components"] != nil {
			return nil, nil, fmt.Errorf("%s: components is not a map", name)
		}
		for kind, v := range pc {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, nil, fmt.Errorf("%s: components/%s is not a map", name, kind)
			}
			dst, _ := comps[kind].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				comps[kind] = dst
			}
			for n, c := range m {
				key := "components/" + kind + "/" + n
				if prev, dup := from[key]; dup {
					return nil, nil, fmt.Errorf("%s: %s is already defined in %s", name, key, prev)
				}
				from[key] = name
				dst[n] = c
			}
		}
	}
	return base, from, nil
}

func load(fsys fs.FS, name string) (map[string]any, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%s: empty", name)
	}
	if err := checkKeys(name, "", m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkKeys makes sure that every map has string keys, so the document
// encodes as JSON: yaml.v3 decodes a map with a key that is not a string
// (an unquoted status code such as 200) as map[any]any.
func checkKeys(file, at string, v any) error {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if err := checkKeys(file, at+"/"+k, e); err != nil {
				return err
			}
		}
	case map[any]any:
		return fmt.Errorf("%s: %s has a key that is not a string (quote status codes: \"200\")", file, at)
	case []any:
		for i, e := range x {
			if err := checkKeys(file, fmt.Sprintf("%s/%d", at, i), e); err != nil {
				return err
			}
		}
	}
	return nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
