module github.com/meshlink/meshlink/bindings/go

go 1.22

require (
	github.com/dlclark/regexp2 v1.11.0
	github.com/go-zeromq/zmq4 v0.17.0
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
)

require (
	github.com/go-zeromq/goczmq/v4 v4.2.2 // indirect
	golang.org/x/sync v0.7.0 // indirect
	golang.org/x/text v0.15.0 // indirect
)
