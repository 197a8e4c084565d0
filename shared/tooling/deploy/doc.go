// Package deploy holds the checks that keep the deployment artifacts honest:
// every resource's props in s.yaml validate against the fc3 component's JSON
// schema (testdata/schema/fc3-schema.json, copied from the component), the
// environment in s.yaml matches the variables the code reads (config.Vars),
// and the s.yaml anchors and variables resolve the way Serverless Devs
// resolves them.
//
// It has no code that ships; its tests run in `make test`.
package deploy
