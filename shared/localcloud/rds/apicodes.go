package rds

import "net/http"

// apiCode is one row of an error table: the HTTP status and the message the
// API answers with the code.
type apiCode struct {
	Status  int
	Message string
}

// createBackupCodes is the "Error codes" table of the CreateBackup API page
// (reference/000_bfd9ea46a3d5b533.txt, last updated 2024-11-11), transcribed
// row by row: code, HTTP status, error message. Where the page lists a code
// twice (BasicInfoUncompleted) the first row is kept. The emulator answers
// its own checks with these rows, and a fault that names one of these codes
// without a status takes the status from here.
var createBackupCodes = map[string]apiCode{
	"BackupType.NotSupport":                         {400, "the specified backup type not support"},
	"InvalidBackupMethod.ValueNotSupport":           {400, `The specified parameter "BackupMethod" is not valid.`},
	"ReadDBInstanceNotSupport":                      {400, "The operation is not permitted due to type of the instance."},
	"IncorrectDBInstanceLockMode.ValueNotSupported": {400, "The Current DB instance lock mode does not support this operation."},
	"BackupJobExists":                               {400, "A backup job already exists in the specified DB instance."},
	"InvalidPreferredBackupTime.Format":             {400, "Specified preferred backup time is not valid."},
	"InvalidDBName.Format":                          {400, "Specified DB name is not valid."},
	"Order.ComboInstanceNotAllowOperate":            {400, "A package instance is not allowed to operate independently."},
	"Price.PricingPlanResultNotFound":               {400, "Pricing plan price result not found."},
	"Order.NoRealNameAuthentication":                {400, "You have not passed the real-name authentication and do not meet the purchase conditions. Please log in to the user center for real-name authentication."},
	"InsufficientAvailableQuota":                    {400, "Your account quota limit is less than 0, please recharge before trying to purchase."},
	"CommodityServiceCalling.Exception":             {400, "Failed to call commodity service."},
	"RegionDissolvedEOM":                            {400, "Dear customer, Alibaba Cloud plans to optimize and adjust the current region. Cloud services in this region will cease operations. You are currently unable to operate new purchase orders. Thank you for your understanding and support."},
	"Commodity.InvalidComponent":                    {400, "The module you purchased is not legal, please buy it again."},
	"RegionEndTimeDissolvedAustralia":               {400, "Cloud services in the Australia (Sydney) region will be discontinued. Set the validity date to September 30, 2024 or earlier than September 30, 2024."},
	"Price.CommoditySys":                            {400, "Commodity system call exception."},
	"Pay.InsufficientBalance":                       {400, "Insufficient available balance."},
	"Order.PeriodInvalid":                           {400, "There is a problem with the period you selected, please choose again."},
	"pay.noCreditCard":                              {400, "Account not bound to credit card."},
	"Order.InstHasUnpaidOrder":                      {400, "There is an unpaid order for the service you have purchased. Please pay or void it before placing the order."},
	"noAvailablePaymentMethod":                      {400, "No payment method is specified for your account. We recommend that you add a payment method."},
	"BasicInfoUncompleted":                          {400, "Your information is incomplete. Complete your information before the operation."},
	"Risk.RiskControlRejection":                     {400, "Your account is abnormal, please contact customer service for details."},
	"Api.NotSupport":                                {400, "Specified api is not supported."},
	"ContainForbiddenLabelError":                    {400, "There is a label that prohibits placing orders. Please contact your distributor for assistance."},
	"InvalidDBInstanceId.NotFound":                  {400, "The DBInstanceId provided does not exist in records."},
	"InvalidInstanceLevel.DiskType":                 {400, "Specified instance level not support request disk type"},
	"InvalidParam":                                  {400, "Sepcified wal level Parameter is invalid. There are still logical slots in instance, so it can not be set as replica."},
	"KmsApiError":                                   {400, "User secret key invalid."},
	"System.SaleValidateFailed":                     {400, "Sales expression validation system error."},
	"Abs.InvalidAccount.NotFound":                   {400, "account is not found."},
	"SqlExecuteFailedOrTimeout":                     {400, "sql command execution failed or timed out:%s."},
	"ColdData.EngineVersionNotSupport":              {400, "The current instance engine version not support coldDataEnabled."},
	"ColdData.MinorVersionNotSupport":               {400, "The current instance minor version not support coldDataEnabled."},
	"IncorrectTargetClasscode":                      {400, "The current instance type does not support this operation."},
	"InvalidConnectionString.Duplicate":             {400, "Specified connection string already exists in the RDS."},
	"RequiredParam.NotFound":                        {400, "Required input param is not found."},
	"Parameters.Invalid":                            {400, "Parameter error, please check the parameters."},
	"BackupPolicyNotSupport":                        {400, "Cold Data won't open with CrossBackup or Flash Backup, please check Backup Policy."},
	"InvalideStatus.Format":                         {400, "The instance status does not support this operation."},
	"InvalidReleasedKeepPolicy.Format":              {400, "Specified Released Keep Policy is not valid."},
	"InvalidDBInstanceEngineType.Format":            {400, "the DB instance engine type does not support this operation."},
	"Pay.NoCreditCard":                              {400, "No credit cards."},
	"VpcNetworkTypeNotSupport":                      {400, "The vpc network type instance does not support this operation."},
	"MirrorInsExists":                               {400, "Specified DB instance mirror ins already existed."},
	"UnsupportedClassCode":                          {400, "The specified DB instance class stops selling."},
	"InvalidBackupSet":                              {400, "The specified database does not exist in the backup set."},
	"OrdTCommodityQueryError":                       {400, "Failed to query for product."},
	"ProductInstanceReleased":                       {400, "The instance has been released. Please check before placing the order."},
	"RegionEndTimeDissolvedIndia":                   {400, "The region is no longer supported."},
	"OperationDenied.ApiForbidden":                  {403, "operation not permitted."},
	"IncorrectDBInstanceEngine":                     {403, "Current DB Instance engine does not support this operation."},
	"IncorrectDBInstanceType":                       {403, "Current DB instance engine and type does not support operations."},
	"IncorrectDBInstanceState":                      {403, "Current DB instance state does not support this operation."},
	"IncorrectDBInstanceCharacterType":              {403, "Current DB Instance character_type does not support this operation."},
	"Exceeded.BackupTimes":                          {403, "The backup times exceeds."},
	"OrderStatus.UnPaid":                            {403, "The specified db instance has unpaid order."},
	"InvalidReduceDiskSize":                         {403, "The storage capacity after the scale-down must be larger than the used amount."},
	"CloudSSDNotSupport":                            {403, "Cloud ssd does not support this operation, please upgrade to essd."},
	"InvalidUserOperatorPermission":                 {403, "The user permission does not support this operation."},
	"InvalidVswitchId":                              {403, "Specified conn vswitch id is not valid."},
	"IncorrectMinorVersion":                         {403, "Current engine minor version does not support operations."},
	"OperationDenied.ZoneResource":                  {403, "There is no available zone for inventory."},
	"NotInFlowController":                           {403, "Sorry,no permission."},
	"InvalidKmsKey":                                 {403, "Kms key is disabled."},
	"InvalidInstanceLevel.Malformed":                {403, "Current DB instance level does not support this operation."},
	"InvalidDBInstanceName.NotFound":                {404, "The database instance does not exist."},
	"InvalidDB.NotFound":                            {404, "Specified db does not exist or DB status does not support this operation."},
	"InvalidClusterKms":                             {404, "The current instance does not authorized to access the Key Management Service."},
	"Request.NotFound":                              {404, "The requested resource is not available."},
	"HostInfo.NotFound":                             {404, "The specified host info is not found."},
	"ExternalFailure":                               {500, "The request processing has failed due to external service failure."},
	"RequestMetaDataFailed":                         {500, "The service request failed. Please try again later or contact service personnel."},
	"InvokeProxyFailure":                            {500, "The request processing has failed due to service failure of rds api."},
}

// gatewayCodes are the OpenAPI gateway's common codes, which the
// CreateBackup page does not list. Throttling 400 is the POP client error
// table (help.aliyun.com/document_detail/51132.html; cloud-fidelity.md [POP],
// G6); Throttling.User 400 ([POP] knowledge_detail/446611); Throttling.Api
// 400 with "Request was denied due to api flow control" (STS,
// help.aliyun.com/knowledge_detail/257129.html;
// accounts-quotas-observability.md §3.2). The others are the statuses SDK
// users report, unverified here.
var gatewayCodes = map[string]apiCode{
	"InternalError":                    {http.StatusInternalServerError, "The request processing has failed due to some unknown error, exception or failure."},
	"ServiceUnavailable":               {http.StatusServiceUnavailable, "The request has failed due to a temporary failure of the server."},
	"Throttling":                       {http.StatusBadRequest, "Request was denied due to request throttling."},
	"Throttling.User":                  {http.StatusBadRequest, "Request was denied due to user flow control."},
	"Throttling.Api":                   {http.StatusBadRequest, "Request was denied due to api flow control."},
	"OperationDenied.DBInstanceStatus": {http.StatusForbidden, "The operation is not permitted due to status of instance."},
}

// lookupCode finds code in the CreateBackup page's table, then among the
// gateway's codes.
func lookupCode(code string) (apiCode, bool) {
	if c, ok := createBackupCodes[code]; ok {
		return c, true
	}
	c, ok := gatewayCodes[code]
	return c, ok
}

// pageError is the page's answer for code: its status and message. It
// panics on a code the tables do not hold (a typo in the emulator).
func pageError(code string) *apiError {
	c, ok := lookupCode(code)
	if !ok {
		panic("rds: no row for error code " + code)
	}
	return &apiError{Status: c.Status, Code: code, Message: c.Message}
}
