module github.com/gogap/errors
