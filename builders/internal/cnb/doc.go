// Package cnb is the Cloud Native Buildpacks engine berth's heroku and
// paketo builder plugins share. It drives the CNB lifecycle of a builder
// image through the Docker Engine API, as pack does for a trusted builder,
// without pack or the docker CLI:
//
//   - it reads the builder image's io.buildpacks.builder.metadata label
//     (lifecycle version, platform APIs, run image, buildpacks) and its
//     CNB_USER_ID / CNB_GROUP_ID, checks that the lifecycle can work with
//     the engine's API version (CheckEngine) and chooses the newest platform
//     API both sides speak (ChoosePlatformAPI);
//   - it pulls the builder and run images when the engine lacks them;
//   - it creates one container of the builder image running
//     /cnb/lifecycle/creator -daemon with the app source copied to
//     /workspace (owned by the CNB user), the build environment written to
//     /platform/env/<NAME>, an optional order.toml (the app's buildpacks
//     list), the engine's socket mounted, and two cache volumes per app
//     repository (CacheVolumes: -cache-dir and -launch-cache) so rebuilds
//     reuse layers; the newest image of the app's repository is passed as
//     -previous-image;
//   - it streams the lifecycle's output line by line, fails with the
//     lifecycle's error lines (FailedError), and removes the container in
//     every case, killing it at once when the context is cancelled.
//
// The container starts as root, as pack's creator does: the lifecycle opens
// the engine's socket and chowns its directories as root, then drops to the
// CNB user before any buildpack runs. The builder image's lifecycle thus
// has the engine (root on the host): builder images must be trusted, which
// the plugins enforce with their trusted_builders setting.
//
// CNB has no build secrets: the plugins never pass BuildRequest.Secrets.
package cnb
