"""C++ messages and grpc++ stubs from a .proto, with Debian's tools.

Runs the system's `protoc` with `grpc_cpp_plugin` (Debian:
protobuf-compiler and protobuf-compiler-grpc) in a genrule, and compiles
what they write into a cc_library that links Debian's protobuf and grpc++.
Include the generated headers by their path in the workspace, such as
"tests/grpcpp/echo.grpc.pb.h".
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

def grpcpp_proto_library(name, src, **kwargs):
    """name: the cc_library; src: one .proto file of this package."""
    base = src[:-len(".proto")]
    hdrs = [base + ".pb.h", base + ".grpc.pb.h"]
    srcs = [base + ".pb.cc", base + ".grpc.pb.cc"]
    native.genrule(
        name = name + "_gen",
        srcs = [src],
        outs = hdrs + srcs,
        cmd = " ".join([
            "plugin=$$(command -v grpc_cpp_plugin) &&",
            "protoc --proto_path=.",
            "--plugin=protoc-gen-grpc=$$plugin",
            "--cpp_out=$(GENDIR) --grpc_out=$(GENDIR)",
            "$(location %s)" % src,
        ]),
    )
    cc_library(
        name = name,
        srcs = srcs,
        hdrs = hdrs,
        # Generated code: warnings there are not ours to fix.
        copts = ["-w"],
        deps = [
            Label("//bazel:grpcpp"),
            Label("//bazel:protobuf"),
        ],
        **kwargs
    )
