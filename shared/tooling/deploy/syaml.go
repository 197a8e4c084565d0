package deploy

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// SYAML is the part of s.yaml the checks read.
type SYAML struct {
	Edition   string                   `yaml:"edition"`
	Name      string                   `yaml:"name"`
	Vars      map[string]any           `yaml:"vars"`
	Resources map[string]SYAMLResource `yaml:"resources"`
	Extra     map[string]any           `yaml:",inline"`
}

// SYAMLResource is one resource of s.yaml.
type SYAMLResource struct {
	Component string         `yaml:"component"`
	Actions   map[string]any `yaml:"actions"`
	Props     map[string]any `yaml:"props"`
}

// LoadSYAML parses an s.yaml file (YAML anchors and merge keys resolved).
func LoadSYAML(path string) (SYAML, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return SYAML{}, err
	}
	var s SYAML
	if err := yaml.Unmarshal(b, &s); err != nil {
		return SYAML{}, fmt.Errorf("%s: %w", path, err)
	}
	env := func(name string) string { return "ENV_" + name } // placeholder for the deployer's value
	// Vars may refer to env and to other vars; resolve them first, then props.
	for i := 0; i < 3; i++ {
		for k, v := range s.Vars {
			s.Vars[k] = resolve(v, s.Vars, env)
		}
	}
	for name, r := range s.Resources {
		r.Props = resolve(r.Props, s.Vars, env).(map[string]any)
		s.Resources[name] = r
	}
	return s, nil
}

var (
	varRef = regexp.MustCompile(`\$\{vars\.([A-Za-z0-9_]+)\}`)
	envRef = regexp.MustCompile(`\$\{env\('([A-Za-z0-9_]+)'\)\}`)
)

// resolve substitutes ${vars.x} and ${env('X')} like Serverless Devs: a
// string that is exactly one ${vars.x} takes the variable's value and type.
func resolve(v any, vars map[string]any, env func(string) string) any {
	switch t := v.(type) {
	case string:
		if m := varRef.FindStringSubmatch(t); m != nil && m[0] == t {
			if val, ok := vars[m[1]]; ok {
				return val
			}
		}
		t = envRef.ReplaceAllStringFunc(t, func(s string) string { return env(envRef.FindStringSubmatch(s)[1]) })
		return varRef.ReplaceAllStringFunc(t, func(s string) string {
			if val, ok := vars[varRef.FindStringSubmatch(s)[1]]; ok {
				return strings.TrimSpace(fmt.Sprint(val))
			}
			return s
		})
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = resolve(x, vars, env)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = resolve(x, vars, env)
		}
		return out
	}
	return v
}
