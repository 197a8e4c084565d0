module github.com/fc-rds-backup/fc-rds-backup

go 1.25

require (
	github.com/alibabacloud-go/darabonba-openapi/v2 v2.0.11
	github.com/alibabacloud-go/rds-20140815/v3 v3.4.0
	github.com/alibabacloud-go/sts-20150401/v2 v2.0.4
	github.com/alibabacloud-go/tea v1.2.2
	github.com/alibabacloud-go/tea-utils/v2 v2.0.6
	github.com/aliyun/aliyun-mns-go-sdk v1.0.11
	github.com/aliyun/aliyun-tablestore-go-sdk v1.7.17
	github.com/aliyun/credentials-go v1.4.5
	github.com/aliyun/fc-runtime-go-sdk v0.3.1
	github.com/gogap/errors v0.0.0-20210818113853-edfbba0ddea9
	github.com/golang/protobuf v1.4.2
	github.com/santhosh-tekuri/jsonschema/v5 v5.3.1
	github.com/valyala/fasthttp v1.52.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/alibabacloud-go/alibabacloud-gateway-spi v0.0.5 // indirect
	github.com/alibabacloud-go/debug v1.0.1 // indirect
	github.com/alibabacloud-go/endpoint-util v1.1.0 // indirect
	github.com/alibabacloud-go/openapi-util v0.1.1 // indirect
	github.com/alibabacloud-go/tea-xml v1.1.3 // indirect
	github.com/andybalholm/brotli v1.1.0 // indirect
	github.com/clbanning/mxj/v2 v2.5.5 // indirect
	github.com/gogap/stack v0.0.0-20150131034635-fef68dddd4f8 // indirect
	github.com/google/flatbuffers v23.5.26+incompatible // indirect
	github.com/hashicorp/golang-lru v0.5.4 // indirect
	github.com/json-iterator/go v1.1.12 // indirect
	github.com/klauspost/compress v1.17.6 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/tjfoc/gmsm v1.4.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	golang.org/x/net v0.33.0 // indirect
	gopkg.in/ini.v1 v1.67.0 // indirect
)

// The Tablestore SDK's generated code is for golang/protobuf v1.3 (its go.mod
// asks v1.3.2). v1.4+, required only by tjfoc/gmsm's gRPC packages (not linked
// into anything here), rebuilds every descriptor at init: 3.7 ms of each
// function's cold start against 0.2 ms. Because of this replace, from-source
// installs build inside the downloaded module, not with `go install …@version`.
replace github.com/golang/protobuf => github.com/golang/protobuf v1.3.2

// The MNS SDK's error package renders its messages with text/template, whose
// reflective method calls make the linker keep every exported method of every
// type: the functions' binaries were 23 MB instead of 12 MB, and each cold
// start paid about 0.3 ms for it. The replacement renders the same messages
// without it (shared/third_party/gogap-errors/README.fc-rds-backup.md). A
// module download leaves that folder out, so from-source installs build with
// shared/integrations/from-source.go.mod, this file without this replace.
replace github.com/gogap/errors => ./shared/third_party/gogap-errors

// The RDS and STS SDKs reach mxj (an XML-to-map library) through tea-xml;
// its gob.go was the functions' one importer of encoding/gob, whose package
// initialization cost about 0.3 ms of every cold start. The replacement is
// upstream v2.5.5 without gob.go (shared/third_party/mxj/README.fc-rds-backup.md).
// From-source installs build without it, like the replace above.
replace github.com/clbanning/mxj/v2 => ./shared/third_party/mxj
