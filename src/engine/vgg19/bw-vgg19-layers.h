/* bw-vgg19-layers.h: the shape of torchvision's vgg19().features up to relu5_1.
 *
 * Shared by the network (which runs it) and the weight loaders (which check files against it).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* torchvision's features hold 16 convs; those up to conv5_1 (modules 0-28) are 13 */
#define BW_VGG19_N_CONVS 13

typedef struct {
  const char *name;       /* "conv1_1" ... "conv5_1" */
  int module;             /* index in torchvision's vgg19().features */
  int in_channels;
  int out_channels;
  gboolean pool_before;   /* a 2x2 max-pool precedes this conv */
} BwVgg19Conv;

extern const BwVgg19Conv bw_vgg19_convs[BW_VGG19_N_CONVS];

G_END_DECLS
