package retry

// The code tables: RDS error codes (the CreateBackup API page and the RDS
// error centre) and the OpenAPI gateway's own codes, each with why it is in
// its class. They are data: tests read them, ClassTableMarkdown renders them
// for the README, and callers may copy and extend them in a Classifier.

// ThrottleCodes are throttling answers. They are Transient, and they also
// close the shared Gate for a while so that every worker slows down.
var ThrottleCodes = map[string]string{
	"Throttling":                    "request rate over the API's limit",
	"Throttling.User":               "request rate over the account's limit",
	"Throttling.Api":                "request rate over the operation's limit",
	"Throttling.Resource":           "request rate over the resource's limit",
	"ServiceUnavailable.Throttling": "service shedding load",
}

// TransientCodes are service-side failures that another try may not hit.
var TransientCodes = map[string]string{
	"InvokeProxyFailure":           "500: the RDS API failed to process the request (API page)",
	"ExternalFailure":              "500: an external service failed (API page)",
	"RequestMetaDataFailed":        "500: the service request failed, try again later (API page)",
	"ServiceUnavailable":           "503: the service is unavailable",
	"InternalError":                "500: internal error",
	"UnknownError":                 "500: unknown server error",
	"LockTimeout":                  "the service timed out waiting for a lock",
	"InvalidSecurityToken.Expired": "the STS token expired; the next invocation brings fresh credentials",
}

// StateWaitCodes say the instance is busy now. The executor answers
// BackupJobExists by looking for the running job (the ask is coalesced with
// it) and IncorrectDBInstanceState by reading the instance (a terminal
// status such as Stopped is rejected); the rest are waited out.
var StateWaitCodes = map[string]string{
	"IncorrectDBInstanceState":              "403: the instance is not Running (API page)",
	"InvalideStatus.Format":                 "400: the instance status does not support this operation (API page)",
	"OperationDenied.DBInstanceStatus":      "the instance status does not allow the operation",
	"OperationDenied.MasterDBInstanceState": "the primary instance is busy",
	"InvalidDBInstanceStatus":               "the instance status does not allow the operation",
	"TaskConflict":                          "another task runs on the instance",
	"ConcurrentTaskExceeded":                "too many tasks run on the instance",
	"BackupJobExists":                       "400: a backup job already runs on the instance (API page)",
}

// TerminalCodes are answers that another try cannot change.
var TerminalCodes = map[string]string{
	// Parameters (API page).
	"BackupType.NotSupport":                         "400: backup type not supported",
	"InvalidBackupMethod.ValueNotSupport":           "400: backup method not valid for the instance",
	"InvalidDBName.Format":                          "400: DBName not valid",
	"InvalidPreferredBackupTime.Format":             "400: time not valid",
	"RequiredParam.NotFound":                        "400: a required parameter is missing",
	"Parameters.Invalid":                            "400: parameter error",
	"MissingParameter":                              "400: a required parameter is missing",
	"InvalidParameter":                              "400: parameter error",
	"InvalidParam":                                  "400: parameter error",
	"InvalidBackupSet":                              "400: database not in the backup set",
	"Api.NotSupport":                                "400: operation not supported",
	"BackupPolicyNotSupport":                        "400: backup policy does not allow it",
	"InvalidReleasedKeepPolicy.Format":              "400: released keep policy not valid",
	"InvalidDBInstanceEngineType.Format":            "400: engine does not support the operation",
	"VpcNetworkTypeNotSupport":                      "400: VPC instance does not support the operation",
	"IncorrectTargetClasscode":                      "400: instance type does not support the operation",
	"InvalidInstanceLevel.DiskType":                 "400: instance type does not support the storage type",
	"SqlExecuteFailedOrTimeout":                     "400: SQL command failed or timed out on the instance",
	"KmsApiError":                                   "400: user key not valid",
	"Order.ComboInstanceNotAllowOperate":            "400: package instance cannot be operated alone",
	"OrderStatus.UnPaid":                            "403: the instance has an unpaid order",
	"Pay.InsufficientBalance":                       "400: insufficient balance",
	"Risk.RiskControlRejection":                     "400: account under risk control",
	"ProductInstanceReleased":                       "400: the instance has been released",
	"ReadDBInstanceNotSupport":                      "400: read-only instances cannot be backed up",
	"IncorrectDBInstanceLockMode.ValueNotSupported": "400: the instance is locked",
	"IncorrectDBInstanceEngine":                     "403: engine does not support the operation",
	"IncorrectDBInstanceType":                       "403: engine and type do not support the operation",
	"IncorrectDBInstanceCharacterType":              "403: character type does not support the operation",
	"IncorrectMinorVersion":                         "403: minor version does not support the operation",
	"InvalidInstanceLevel.Malformed":                "403: instance level does not support the operation",
	"CloudSSDNotSupport":                            "403: cloud SSD does not support the operation",
	"InvalidKmsKey":                                 "403: KMS key disabled",
	"Exceeded.BackupTimes":                          "403: 20 backups a day already (API page)",
	// Not found (API page).
	"InvalidDBInstanceId.NotFound":   "400/404: no such instance",
	"InvalidDBInstanceName.NotFound": "404: no such instance",
	"InvalidDB.NotFound":             "404: no such database, or not ready",
	"Request.NotFound":               "404: resource not available",
	"HostInfo.NotFound":              "404: host not found",
	"InvalidClusterKms":              "404: instance may not use KMS",
	"InvalidBackupJobId.NotFound":    "no such backup job",
	// Permissions and authentication (OpenAPI gateway).
	"OperationDenied.ApiForbidden":               "403: operation not permitted",
	"InvalidUserOperatorPermission":              "403: user not authorized",
	"NotInFlowController":                        "403: no permission",
	"Forbidden":                                  "403: forbidden",
	"Forbidden.RAM":                              "403: the RAM policy does not allow it",
	"Forbidden.AccessDenied":                     "403: access denied",
	"NoPermission":                               "403: no permission",
	"InvalidAccessKeyId.NotFound":                "the access key does not exist",
	"InvalidAccessKeyId.Inactive":                "the access key is disabled",
	"SignatureDoesNotMatch":                      "the request signature is wrong",
	"IncompleteSignature":                        "the request signature is incomplete",
	"InvalidSecurityToken.Malformed":             "the STS token is malformed",
	"InvalidSecurityToken.MismatchWithAccessKey": "the STS token does not match the key",
	"InvalidRegionId.NotFound":                   "no such region",
}

// AccessCodes are the terminal codes that say the caller may not act (RAM
// permissions, keys, tokens, signatures), as opposed to a refusal by a rule
// or prerequisite of the API page. An ask refused by a rule is rejected
// (DESIGN.md §2: "refused is rejected, whoever refuses"); an ask stopped by
// access fails, because the deployment, not the ask, is at fault.
var AccessCodes = map[string]bool{
	"OperationDenied.ApiForbidden":               true,
	"InvalidUserOperatorPermission":              true,
	"NotInFlowController":                        true,
	"Forbidden":                                  true,
	"Forbidden.RAM":                              true,
	"Forbidden.AccessDenied":                     true,
	"NoPermission":                               true,
	"InvalidAccessKeyId.NotFound":                true,
	"InvalidAccessKeyId.Inactive":                true,
	"SignatureDoesNotMatch":                      true,
	"IncompleteSignature":                        true,
	"InvalidSecurityToken.Malformed":             true,
	"InvalidSecurityToken.MismatchWithAccessKey": true,
	"InvalidRegionId.NotFound":                   true,
	"Pay.InsufficientBalance":                    true,
	"Risk.RiskControlRejection":                  true,
	"OrderStatus.UnPaid":                         true,
}

// Refusal reports whether a terminal answer with code is a refusal of the
// ask by a rule or prerequisite (the outcome is rejected) rather than an
// access or account problem (failed). Unknown codes are refusals when the
// HTTP status is 4xx, which is how Classify made them terminal.
func Refusal(code string) bool { return code != "" && !AccessCodes[code] }
