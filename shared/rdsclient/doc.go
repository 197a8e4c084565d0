// Package rdsclient is the adapter between the domain (package backup) and
// ApsaraDB RDS, over the official SDK github.com/alibabacloud-go/rds-20140815/v3
// v3.4.0 with its default ACS3-HMAC-SHA256 signing.
//
// # Construction
//
// New(Config) does no I/O. It refuses, with a *CredentialsError that names
// every source, a configuration the SDK would panic on at the first call
// (wire-protocols.md §1.10): static credentials (AccessKeyID and
// AccessKeySecret, plus SecurityToken for STS) are used when given; else,
// with UseDefaultChain, credentials-go's default chain
// (credentials.NewCredential(nil)) — and New checks that at least one of the
// chain's sources is present (ALIBABA_CLOUD_ACCESS_KEY_ID and
// ALIBABA_CLOUD_ACCESS_KEY_SECRET; the OIDC trio ALIBABA_CLOUD_ROLE_ARN,
// ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE;
// ~/.aliyun/config.json; ~/.alibabacloud/credentials or
// ALIBABA_CLOUD_CREDENTIALS_FILE; ALIBABA_CLOUD_ECS_METADATA). A chain that
// still fails at call time yields a *CredentialsError, never retried.
//
// In Function Compute the invocation context carries STS credentials; the
// caller builds one Client at start-up and derives a per-invocation copy
// with WithCredentials, which is cheap: SDK clients are built per region on
// first use and kept.
//
// Transport: Endpoint overrides the endpoint (host:port; "127.0.0.1:PORT"
// with Protocol "http" for the local cloud); ReadTimeout (default 10s) goes
// to the SDK in milliseconds, ConnectTimeout (default 5s) in whole seconds
// (rounded up, as tea v1.2.2 multiplies it by time.Second); the SDK's own
// retries are off (Autoretry false) because the executor retries by class.
// The time left to a call's deadline is counted in whole seconds, since tea
// keeps one HTTP client per distinct pair of timeouts and endpoint for the
// process's life. MaxIdleConns (default 64; the functions pass
// BACKUP_RDS_CONCURRENCY) connections stay open between calls: net/http's
// default of 2 would open, and over HTTPS handshake, most of a fleet's.
//
// # Regions
//
// Every method takes the region of its request; an empty region is the
// Config's RegionID. DescribeDBInstances requires a RegionId, so
// ListInstances sends the selector's or the default.
//
// # Answers read by hand
//
// Every call goes through the SDK's typed operation but the two of a
// fleet's hot path: a DescribeDBInstances page (100 instances of some 30
// fields) and CreateBackup are sent by the same client's CallApi with the
// typed operation's own parameters, and their bodies are decoded by hand
// into the fields the product reads (as leniently as the SDK: a number
// where a string is expected is its text). The typed operations validate
// the request by reflection and convert the answer three times
// (tea.Convert): about 7 ms of CPU for a page, on the path before a
// fleet's first backup, and a quarter of each CreateBackup's (answers.go).
// Signing, endpoint, timeouts and error answers stay the SDK's; each
// action is a constant, so the RAM-policy test still derives its grant.
//
// # Context
//
// The SDK takes no context. Each call runs in a goroutine and the method
// returns as soon as ctx ends (the call itself finishes in the background,
// bounded by ReadTimeout). A CreateBackup abandoned that way may still have
// reached RDS: the executor's duplicate checks cover that.
//
// # Errors
//
// An error answer (*tea.SDKError) becomes *APIError{Code, Message,
// RequestID, HTTPStatus}: Message is the server's, without the SDK's
// decoration, and RequestID comes from the error body (the SDK's Data JSON).
// Anything else — connection refused or reset, a timeout, an empty or
// non-JSON body — is returned wrapped with the action and instance, so
// package retry classifies it as transient. Configuration mistakes are
// *ConfigError and missing credentials *CredentialsError; both say
// RetryableError() == false. DescribeDBInstanceAttribute answering with no
// instance is reported as InvalidDBInstanceId.NotFound (404).
//
// # Requests
//
// ToCreateBackupRequest is the one conversion from a backup.Request to the
// SDK's CreateBackupRequest: only the parameters that are set, DBName joined
// with commas, no region (the region picks the endpoint). Its output is
// pinned by golden files in testdata/ (go test -update rewrites them).
package rdsclient
