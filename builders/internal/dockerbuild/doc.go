// Package dockerbuild is what berth's builders share to build an image on
// the Docker Engine named in a build request: the operator's engine
// settings (EngineSettings: memory limit and network of build steps), a
// build context writer that honours .dockerignore and never follows
// symbolic links (ContextWriter), paths that cannot leave the source tree
// (ResolveInside), checks of image names and build arguments, and the
// build itself with its output streamed line by line (BuildImage,
// BuildContext).
//
// It is internal to the builders: plugins are written against the sdk
// module, and a builder never imports another builder's package.
package dockerbuild
