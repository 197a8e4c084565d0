module github.com/clbanning/mxj/v2

go 1.15
