package dataset

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// ClassNamesKey is the metadata_props key under which onnxguard looks
// first for a model's class names: a JSON list, name i for output i.
const ClassNamesKey = "onnxguard.classes"

// classNameKeys are the metadata_props keys that carry class names, in the
// order they are tried: onnxguard's own, then those exporters write:
// Ultralytics' "names" (a Python dict literal, {0: 'person', 1: 'bicycle'}),
// and the plain "classes", "class_names" and "labels" that hand-written
// export scripts use (a JSON list or object, or one name per line).
var classNameKeys = []string{ClassNamesKey, "names", "classes", "class_names", "labels"}

// ReadClassNames reads class names from a file: a JSON list
// (["T-shirt/top", "Trouser", …]), a JSON object from index to name
// ({"0": "T-shirt/top", …}, as Hugging Face's id2label), or one name per
// line (blank lines at the end ignored). Name i labels class i.
func ReadClassNames(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading class names: %w", err)
	}
	names, err := ParseClassNames(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return names, nil
}

// ParseClassNames reads class names from text in any of the forms
// ReadClassNames accepts, or a Python dict literal of index to name.
func ParseClassNames(text string) ([]string, error) {
	t := strings.TrimSpace(text)
	var names []string
	switch {
	case t == "":
		return nil, fmt.Errorf("no class names: give one per line or a JSON list")
	case strings.HasPrefix(t, "["):
		if err := json.Unmarshal([]byte(t), &names); err != nil {
			return nil, fmt.Errorf("class names: not a JSON list of strings: %v", err)
		}
	case strings.HasPrefix(t, "{"):
		m, err := parseIndexMap(t)
		if err != nil {
			return nil, err
		}
		if names, err = denseNames(m); err != nil {
			return nil, err
		}
	default:
		for _, line := range strings.Split(t, "\n") {
			names = append(names, strings.TrimSpace(strings.TrimSuffix(line, "\r")))
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no class names: give one per line or a JSON list")
	}
	return names, nil
}

// parseIndexMap reads {"0": "a", "1": "b"} (JSON) or {0: 'a', 1: 'b'}
// (Python's repr of a dict, as Ultralytics writes it).
func parseIndexMap(t string) (map[int]string, error) {
	var js map[string]string
	if json.Unmarshal([]byte(t), &js) == nil {
		m := map[int]string{}
		for k, v := range js {
			i, err := strconv.Atoi(strings.TrimSpace(k))
			if err != nil {
				return nil, fmt.Errorf("class names: key %q is not a class index", k)
			}
			m[i] = v
		}
		return m, nil
	}
	return parsePythonDict(t)
}

// parsePythonDict reads {0: 'a', 1: "b"}: integer keys, quoted names.
func parsePythonDict(t string) (map[int]string, error) {
	bad := func(at string) error {
		return fmt.Errorf("class names: cannot read %.20q…: want {0: 'name', 1: 'name', …}", at)
	}
	s := strings.TrimSpace(t[1:])
	m := map[int]string{}
	for {
		s = strings.TrimLeft(s, " \t\r\n,")
		if strings.HasPrefix(s, "}") {
			return m, nil
		}
		key, rest, ok := strings.Cut(s, ":")
		i, err := strconv.Atoi(strings.TrimSpace(key))
		if !ok || err != nil {
			return nil, bad(s)
		}
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" || (rest[0] != '\'' && rest[0] != '"') {
			return nil, bad(rest)
		}
		q := rest[0]
		var b strings.Builder
		j := 1
		for ; j < len(rest) && rest[j] != q; j++ {
			if rest[j] == '\\' && j+1 < len(rest) {
				j++
			}
			b.WriteByte(rest[j])
		}
		if j == len(rest) {
			return nil, bad(rest)
		}
		m[i] = b.String()
		s = rest[j+1:]
	}
}

// denseNames turns index → name into a list, refusing gaps.
func denseNames(m map[int]string) ([]string, error) {
	idx := make([]int, 0, len(m))
	for i := range m {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	names := make([]string, len(idx))
	for n, i := range idx {
		if i != n {
			return nil, fmt.Errorf("class names: no name for class %d; name every class from 0", n)
		}
		names[n] = m[i]
	}
	return names, nil
}

// MetadataClassNames looks for class names in a model's metadata_props
// (key → value), under onnxguard.classes first and then the keys exporters
// use. It returns the names and the key they came from, or nil and "" when
// no key holds names; a key that is present but unreadable is an error, so
// a damaged entry is not silently ignored.
func MetadataClassNames(md map[string]string) ([]string, string, error) {
	for _, k := range classNameKeys {
		v, ok := md[k]
		if !ok {
			continue
		}
		names, err := ParseClassNames(v)
		if err != nil {
			return nil, k, fmt.Errorf("metadata_props %q: %w", k, err)
		}
		return names, k, nil
	}
	return nil, "", nil
}
