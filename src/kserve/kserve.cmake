# KServe v2 on the wire (docs/layers.md): the BYTES codec, which the server's core shares, and
# the gRPC client with its transport interface and link emulator, which the split runner
# (collab_remote) and the stream's cloud detector (stream_cloud) use. Apart from collab so that
# a user of the client reaches none of collab's runtime internals; apart from the server so
# that the client links its generated stubs and nothing of the server.
supernova_layer(kserve_bytes KIND STATIC
  SOURCES kserve/bytes.cc
  HEADERS kserve/bytes.h
  DEPENDS common)

supernova_layer(kserve_client KIND STATIC
  SOURCES kserve/kserve_client.cc kserve/emulated_link.cc
  HEADERS kserve/kserve_client.h kserve/transport.h kserve/emulated_link.h
  DEPENDS common kserve_bytes collab_link
  INTERFACE supernova_server_proto
  LINK fmt::fmt)
