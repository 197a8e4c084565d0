# fc-rds-backup — see README.md. Newcomers: `make run`, then `make test`.
FUNCTIONS := scheduled queue webhook
GO        ?= go
BUILD     := build
GOFLAGS_BUILD := -trimpath -ldflags "-s -w"

.PHONY: all build package dist test run bench soak plan deploy infra ledger-table fuzz fmt vet clean $(addprefix build-,$(FUNCTIONS))

all: build

build: $(addprefix build-,$(FUNCTIONS))

# Each function: a static linux/amd64 executable named `main` (FC go1 handler: main).
$(addprefix build-,$(FUNCTIONS)): build-%:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build $(GOFLAGS_BUILD) -o $(BUILD)/$*/main ./functions/$*

# One zip per function with the executable `main` at its root (console upload).
package: build
	@for f in $(FUNCTIONS); do $(GO) run ./shared/tooling/fczip -o $(BUILD)/$$f.zip $(BUILD)/$$f/main || exit 1; done
	@ls -l $(BUILD)/*.zip

# The release's archives into dist/: rdsbackup for linux, darwin and windows
# on amd64 and arm64, the three function zips, SHA256SUMS; every binary
# stamped with VERSION (default: git describe --tags --always --dirty, else dev).
dist:
	$(GO) run ./shared/tooling/dist -o dist -go "$(GO)" -version "$(VERSION)"

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

# The test command of the README and of .ci/run.
test:
	@out=$$(gofmt -l $$(git ls-files '*.go' | xargs -r ls 2>/dev/null)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# The main job end to end on the embedded local cloud; no account, no network.
# The same as `go run ./shared/devstack demo`, but it says what it is doing
# first, and builds the local cloud (devstack) and the three functions in
# one `go build` (their packages compile in parallel; on a fresh machine it
# first downloads the modules, `go: downloading` lines, with a line every
# 15 s), into build/local, where the demo finds the functions up to date.
run:
	@echo "make run: building the local cloud and the three functions into build/local, then the demo;" \
	  "the first time downloads modules and compiles: under a minute …"
	@CGO_ENABLED=0 $(GO) build -ldflags "-s -w" -o $(BUILD)/local/ ./shared/devstack $(addprefix ./functions/,$(FUNCTIONS)) & b=$$!; t=0; \
	  while kill -0 $$b 2>/dev/null; do sleep 1; t=$$((t+1)); \
	    if [ $$((t % 15)) -eq 0 ] && kill -0 $$b 2>/dev/null; then echo "make run: still building ($${t}s) …"; fi; \
	  done; wait $$b
	@$(BUILD)/local/devstack demo

# The ratio table (product vs its physical floor, measured side by side on
# the local cloud), then the Go microbenchmarks.
bench:
	$(GO) run ./shared/tooling/bench
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The soak: SOAK_N asks (default 2,000) through the built functions on the
# local cloud under faults, redeliveries and SIGKILLs; prints its report and
# fails on any broken promise. Sets show in DescribeBackups SOAK_SET_LAG
# seconds after their task ends (default 60, as on the real service). Its
# short form (200 asks, the same lag, no Tablestore faults) runs in `make test`.
SOAK_N ?= 2000
SOAK_SET_LAG ?= 60
SOAK_OTS_FAULTS ?= 1
soak:
	SOAK_N=$(SOAK_N) SOAK_SET_LAG=$(SOAK_SET_LAG) SOAK_OTS_FAULTS=$(SOAK_OTS_FAULTS) $(GO) test -count=1 -timeout 60m -run '^TestSoak$$' -v ./shared/localcloud/soak

# Short fuzzing of every decoder (seeds also run in `make test`).
fuzz:
	@$(GO) list ./shared/... | while read -r pkg; do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime 15s -fuzzminimizetime 3s $$pkg || exit 1; \
	  done; done

# What `make deploy` would change (Serverless Devs' plan; needs `s` and an
# account), then the deploy itself (README "Deploy").
plan:
	s plan

deploy:
	s deploy -y

# The three MNS queues and the ask ledger's Tablestore table that s.yaml
# needs and the functions never create (README "Deploy"). A dry run that
# prints the plan; APPLY=1 creates what is missing. It never changes or
# deletes anything: a resource that exists but differs is reported, and fails it.
# Names from s.yaml's vars; endpoints from BACKUP_MNS_ENDPOINT (else
# ALIBABA_CLOUD_ACCOUNT_ID and s.yaml's region), BACKUP_LEDGER_ENDPOINT and
# BACKUP_LEDGER_INSTANCE (unset: no table). Key: the default credential chain.
# With BACKUP_ALLOWED_ACCOUNTS it also prints the member role's trust and
# permission policies (MEMBER_TAG=key=value: tagged instances only) and the
# functions' AssumeRole statement (docs/fleets.md); it creates none of them.
# ONLY=members prints those alone, with no key (ONLY=queues, ONLY=ledger).
INFRA_FLAGS = -account-id "$(ALIBABA_CLOUD_ACCOUNT_ID)" -mns-endpoint "$(BACKUP_MNS_ENDPOINT)" \
  -ledger-endpoint "$(BACKUP_LEDGER_ENDPOINT)" -ledger-instance "$(BACKUP_LEDGER_INSTANCE)" \
  $(if $(BACKUP_LEDGER_TABLE),-ledger-table "$(BACKUP_LEDGER_TABLE)") \
  -member-accounts "$(BACKUP_ALLOWED_ACCOUNTS)" $(if $(BACKUP_MEMBER_ROLE),-member-role "$(BACKUP_MEMBER_ROLE)") \
  $(if $(MEMBER_TAG),-member-tag "$(MEMBER_TAG)")
infra:
	$(GO) run ./shared/tooling/infra $(if $(filter 1 true yes,$(APPLY)),-apply) $(if $(ONLY),-only "$(ONLY)") $(INFRA_FLAGS)

# The ledger's table alone, created if missing (= make infra APPLY=1 for
# the table only).
ledger-table:
	$(GO) run ./shared/tooling/infra -only ledger -apply $(INFRA_FLAGS)

clean:
	rm -rf $(BUILD)
