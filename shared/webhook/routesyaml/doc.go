// Package routesyaml reads a YAML routes document (BACKUP_ROUTES, ROUTES.md)
// for shared/webhook: Decode turns it into the values that webhook.LoadRoutes
// marshals to JSON, then parses and validates like a JSON document.
//
// It is apart from shared/webhook so that gopkg.in/yaml.v3, whose package
// initialization alone costs some 0.06 ms at every cold start, is linked
// into the webhook function only: the scheduled and queue functions link
// shared/webhook through shared/app but never read routes. The webhook
// function's main wires it (webhook.YAML = routesyaml.Decode); a
// test of routes in YAML sets it too.
package routesyaml
