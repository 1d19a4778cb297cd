// The node tests' image: one static binary, standard library only.
module github.com/modelops/modelops/tests/node/probe

go 1.26.0
