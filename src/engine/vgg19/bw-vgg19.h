/* bw-vgg19.h: VGG19's convolutional layers up to relu5_1, forward and input gradient.
 *
 * The network's input is a normalised RGB image, (x - mean) / std, as torchvision's models
 * expect; bw_vgg19_normalize() converts. Style transfer optimises that normalised image
 * directly, as the seed's PyTorch recipe does, so no step pays for the conversion.
 * Weights trained in Caffe (BwWeightsConvention) expect BGR in [0, 255] minus the mean pixel
 * instead. With the mean taken as Caffe's (in RGB, over 255) and the std kept, that input is
 * exactly 255 * std[c] * n[c] in the opposite channel order, so bw_vgg19_new() folds the swap
 * and the scale into conv1_1's weights: the image stays normalised as before (the same std, so
 * learning rates and total variation mean the same), and no shader changes.
 * Features are the post-ReLU outputs of each conv ("relu4_2" is conv index 9). The backward
 * pass takes, for each conv, the gradient of the loss with respect to its post-ReLU output
 * (or NULL) and returns the gradient with respect to the input; it runs only through the
 * layers below the deepest one given.
 */
#pragma once

#include "tensor/bw-tensor.h"
#include "vgg19/bw-vgg19-layers.h"
#include "weights/bw-weights.h"

G_BEGIN_DECLS

#define BW_TYPE_VGG19 (bw_vgg19_get_type ())
G_DECLARE_FINAL_TYPE (BwVgg19, bw_vgg19, BW, VGG19, GObject)

/* ImageNet's mean, as torchvision's models expect; Caffe's mean pixel (123.68, 116.779,
 * 103.939) in RGB order over 255; and ImageNet's std, which both conventions normalise by. */
extern const float bw_vgg19_torchvision_mean[3];
extern const float bw_vgg19_caffe_mean[3];
extern const float bw_vgg19_std[3];

/* Uploads the weights (checked with bw_weights_check_vgg19()), for the input convention they
 * carry (bw_weights_get_convention()). */
BwVgg19  *bw_vgg19_new             (BwDevice        *device,
                                    BwWeights       *weights,
                                    GError         **error);

BwDevice *bw_vgg19_get_device      (BwVgg19         *self);
/* Device memory the weights take (and their Winograd transforms). */
guint64   bw_vgg19_get_weight_bytes (BwVgg19        *self);
BwWeightsConvention bw_vgg19_get_convention (BwVgg19 *self);
/* The mean the normalised image is taken about (RGB, in [0, 1]); the std is bw_vgg19_std. */
const float *bw_vgg19_get_mean     (BwVgg19         *self);

/* The smallest height and width that reach conv @last (each pool halves them). */
int       bw_vgg19_min_side        (int              last);
/* "relu4_2" -> 9; -1 for an unknown name. */
int       bw_vgg19_layer_index     (const char      *relu_name);
const char *bw_vgg19_layer_name    (int              index);

/* Device memory that the activations of a run up to conv @last (and back, with @backward) at
 * @height x @width take; bw_vgg19_prepare() adds the weights and the Winograd path's scratch. */
guint64   bw_vgg19_estimate_memory (int              height,
                                    int              width,
                                    int              last,
                                    gboolean         backward);

/* Allocates what a run at this size needs, or says why it cannot. Cheap when nothing
 * changed. */
/* Whether bw_vgg19_prepare() can take @height x @width on this device (the network's
 * smallest input, the device's largest buffer, its memory), without allocating anything. */
gboolean  bw_vgg19_fits            (BwVgg19         *self,
                                    int              height,
                                    int              width,
                                    int              last,
                                    gboolean         backward,
                                    GError         **error);
gboolean  bw_vgg19_prepare         (BwVgg19         *self,
                                    int              height,
                                    int              width,
                                    int              last,
                                    gboolean         backward,
                                    GError         **error);
/* Takes @height x @width within what the last bw_vgg19_prepare() allocated, which must be at
 * least as large (with the same @last and @backward): the tiles of a tiled step differ in size
 * at the image's edges, and share one allocation. Allocates nothing. */
gboolean  bw_vgg19_prepare_within  (BwVgg19         *self,
                                    int              height,
                                    int              width,
                                    int              last,
                                    gboolean         backward,
                                    GError         **error);

/* Records (x - mean) / std of an image in [0, 1] with @self's mean, or with @inverse the way
 * back. */
gboolean  bw_vgg19_normalize       (BwVgg19         *self,
                                    BwTensor        *image,
                                    BwTensor        *out,
                                    gboolean         inverse,
                                    GError         **error);

/* Records the forward pass of @input (3 x h x w, normalised) up to the prepared layer. */
gboolean  bw_vgg19_forward         (BwVgg19         *self,
                                    BwTensor        *input,
                                    GError         **error);

/* The post-ReLU output of conv @index from the last forward pass. */
BwTensor *bw_vgg19_get_feature     (BwVgg19         *self,
                                    int              index);

/* Records the backward pass: @feature_grads[i] is dLoss/d(feature i) or NULL. Writes
 * dLoss/d(input) to @input_grad (3 x h x w). */
gboolean  bw_vgg19_backward        (BwVgg19         *self,
                                    BwTensor *const *feature_grads,
                                    BwTensor        *input_grad,
                                    GError         **error);

G_END_DECLS
