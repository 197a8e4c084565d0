package main

import (
	"runtime"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// sdkConfig is the official SDK's client for the emulator, as a user would
// build it: the floor the product is compared with.
func sdkConfig(srv *rds.Server) *openapi.Config {
	cred := srv.Credential()
	return &openapi.Config{
		AccessKeyId:     tea.String(cred.AccessKeyID),
		AccessKeySecret: tea.String(cred.AccessKeySecret),
		RegionId:        tea.String("cn-hangzhou"),
		Endpoint:        tea.String(strings.TrimPrefix(srv.Endpoint(), "http://")),
		Protocol:        tea.String("http"),
		ReadTimeout:     tea.Int(10000),
	}
}

func numCPU() int { return runtime.NumCPU() }
