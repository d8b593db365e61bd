// Umbrella include: every nn layer, block and model.
#pragma once

#include "nn/activation.h"
#include "nn/batch_norm.h"
#include "nn/blocks.h"
#include "nn/conv2d.h"
#include "nn/dropout.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/models/efficientnet.h"
#include "nn/models/mlp_head.h"
#include "nn/models/mobilenet_v3.h"
#include "nn/models/resnet.h"
#include "nn/module.h"
#include "nn/pooling.h"
