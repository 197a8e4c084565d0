// Package config loads the functions' settings from the environment, once, at
// start-up. Load fails fast: a malformed value, an unknown BACKUP_* variable
// (a typo would otherwise be silently ignored) or a missing required setting
// is an error naming the variable and the rule. Handlers receive the Config
// and never read the environment themselves.
//
// Vars is the single list of every variable, its default and what breaks when
// it is wrong; the README's configuration table and s.yaml are checked
// against it by tests.
package config
