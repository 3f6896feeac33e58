"""Repositories that a workspace depending on stp needs.

stp itself depends on nothing outside this repository: the core target
`@stp//:stp` is plain C11 and libc. What a consumer may need is not stp's
but Bazel's: on Bazel 4 the built-in workspace wants to download
`rules_cc`, `rules_java` and `remote_coverage_tools` before anything
builds. On a machine without network, `stp_offline_repositories()` defines
those three from small stand-ins kept in this repository (bazel/local/):
rules_cc and rules_java re-export Bazel's native rules, and the coverage
tools are no-ops (coverage is not supported with them).

In your WORKSPACE, after the repository that brings in stp:

    load("@stp//bazel:repositories.bzl", "stp_offline_repositories")
    stp_offline_repositories()

Call it after your own rules_cc or rules_java, if you have them: those are
then left alone. With network access you do not need it. Bazel 7+ users
with MODULE.bazel need none of this.
"""

def _stp_local_shim_impl(rctx):
    # Resolved in this .bzl's own repository, whatever the consumer named
    # it and however it was fetched (local_repository, http_archive, ...).
    root = rctx.path(Label("//:WORKSPACE")).dirname
    src = root.get_child("bazel").get_child("local").get_child(rctx.attr.shim)
    for child in src.readdir():
        rctx.symlink(child, child.basename)

_stp_local_shim = repository_rule(
    implementation = _stp_local_shim_impl,
    attrs = {"shim": attr.string(mandatory = True)},
    doc = "A copy (by symlinks) of one stand-in from stp's bazel/local/.",
)

def stp_offline_repositories():
    """Defines rules_cc, rules_java and remote_coverage_tools offline.

    rules_cc and rules_java are defined only when the workspace has not
    defined them already. remote_coverage_tools is always defined: Bazel 4
    declares it itself (as a download) before the WORKSPACE is read, so it
    cannot be told apart from a user's own definition.
    """
    for name in ["rules_cc", "rules_java"]:
        if not native.existing_rule(name):
            _stp_local_shim(name = name, shim = name)
    _stp_local_shim(
        name = "remote_coverage_tools",
        shim = "remote_coverage_tools",
    )
