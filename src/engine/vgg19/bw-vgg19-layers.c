#include "bw-vgg19-layers.h"

const BwVgg19Conv bw_vgg19_convs[BW_VGG19_N_CONVS] = {
  { "conv1_1",  0,   3,  64, FALSE },
  { "conv1_2",  2,  64,  64, FALSE },
  { "conv2_1",  5,  64, 128, TRUE },
  { "conv2_2",  7, 128, 128, FALSE },
  { "conv3_1", 10, 128, 256, TRUE },
  { "conv3_2", 12, 256, 256, FALSE },
  { "conv3_3", 14, 256, 256, FALSE },
  { "conv3_4", 16, 256, 256, FALSE },
  { "conv4_1", 19, 256, 512, TRUE },
  { "conv4_2", 21, 512, 512, FALSE },
  { "conv4_3", 23, 512, 512, FALSE },
  { "conv4_4", 25, 512, 512, FALSE },
  { "conv5_1", 28, 512, 512, TRUE },
};
